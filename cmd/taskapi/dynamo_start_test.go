package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/internal/testenv"
)

// TestDynamoDBMisconfiguredAtStart: with STORE=dynamodb, what would fail
// the first request (no credentials, no tables, no DynamoDB) stops serve
// and create-admin at start, with one line saying what is wrong.
func TestDynamoDBMisconfiguredAtStart(t *testing.T) {
	noCredentials := []string{"STORE=dynamodb", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) []string
		want []string
	}{
		{"ErrNoCredentials", func(*testing.T) []string { return noCredentials },
			[]string{"STORE=dynamodb: dynamodb (region us-east-1, tables taskapi-users and taskapi-tasks) cannot be used: dynamo: GetUser: no AWS credentials: ",
				"; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role"}},
		{"ErrMissingTables", func(t *testing.T) []string {
			if testing.Short() {
				t.Skip("starts DynamoDB Local")
			}
			suffix := fmt.Sprint(time.Now().UnixNano())
			return localDynamoDB(testenv.DynamoDB(t), "nope-users-"+suffix, "nope-tasks-"+suffix)
		}, []string{"cannot be used: dynamo: GetUser: table \"nope-users-", "does not exist: run taskapi create-tables"}},
		{"ErrUnreachable", func(t *testing.T) []string {
			return localDynamoDB(fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), "users", "tasks")
		}, []string{"STORE=dynamodb: dynamodb (http://127.0.0.1:", "cannot be used: dynamo: GetUser", "connect: connection refused"}},
	} {
		for _, args := range [][]string{{"serve"}, {"create-admin", "-email", "root@example.com"}} {
			t.Run(tc.name+"/"+args[0], func(t *testing.T) {
				code, stdout, stderr := runBin(t, "r00t!pw\n", tc.env(t), args...)
				if code != 1 || stdout != "" {
					t.Fatalf("exit %d (want 1), stdout %q, stderr:\n%s", code, stdout, stderr)
				}
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "taskapi "+args[0]+": STORE=dynamodb: ") {
					t.Fatalf("want one line, got:\n%s", stderr)
				}
				for _, want := range tc.want {
					if !strings.Contains(stderr, want) {
						t.Errorf("stderr lacks %q:\n%s", want, stderr)
					}
				}
			})
		}
	}
}

func localDynamoDB(endpoint, users, tasks string) []string {
	return []string{"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "USERS_TABLE=" + users, "TASKS_TABLE=" + tasks}
}
