// Package legacytest writes DynamoDB tables the way the legacy FastAPI app
// left them (its README's "Database Schema"), for the migration's tests and
// benchmark: users keyed user_id ("VAH<n>") with the email-index GSI and
// user_id, username, email, password, role, activation_status; tasks keyed
// user_id + task_id (uuid4) with title, description, status, created_at
// and no status index. Passwords are "encrypted" reversibly by Encrypt, a
// stand-in for the legacy PASS_SECRET_KEY cipher; DecryptMain answers the
// migrate-legacy -decrypt-command protocol with Decrypt.
package legacytest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// CreateTables creates the legacy app's two tables (no status-index).
func CreateTables(ctx context.Context, db *dynamodb.Client, users, tasks string) error {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(name string, t types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: t}
	}
	inputs := []*dynamodb.CreateTableInput{{
		TableName:            &users,
		AttributeDefinitions: []types.AttributeDefinition{s("user_id"), s("email")},
		KeySchema:            []types.KeySchemaElement{key("user_id", types.KeyTypeHash)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("email-index"), KeySchema: []types.KeySchemaElement{key("email", types.KeyTypeHash)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	}, {
		TableName:            &tasks,
		AttributeDefinitions: []types.AttributeDefinition{s("user_id"), s("task_id")},
		KeySchema:            []types.KeySchemaElement{key("user_id", types.KeyTypeHash), key("task_id", types.KeyTypeRange)},
		BillingMode:          types.BillingModePayPerRequest,
	}}
	for _, in := range inputs {
		// A retried attempt (a slow emulator) finds the table made by the first.
		var inUse *types.ResourceInUseException
		if _, err := db.CreateTable(ctx, in); err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create legacy table %s: %w", *in.TableName, err)
		}
	}
	return nil
}

// Encrypt is the fixtures' reversible password "cipher".
func Encrypt(password string) string {
	r := []rune(password)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return "gAAAAA" + base64.StdEncoding.EncodeToString([]byte(string(r)))
}

// Decrypt reverses Encrypt; false for a value Encrypt did not make.
func Decrypt(value string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(value, "gAAAAA"))
	if err != nil || !strings.HasPrefix(value, "gAAAAA") {
		return "", false
	}
	r := []rune(string(b))
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r), true
}

// DecryptMain speaks the -decrypt-command protocol (docs/migration.md) on
// in and out with Decrypt.
func DecryptMain(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		var req struct {
			UserID     string `json:"user_id"`
			Ciphertext string `json:"ciphertext"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return err
		}
		ans := map[string]string{"user_id": req.UserID}
		if p, ok := Decrypt(req.Ciphertext); ok {
			ans["password"] = p
		} else {
			ans["error"] = "InvalidToken"
		}
		if err := enc.Encode(ans); err != nil {
			return err
		}
	}
	return sc.Err()
}

// User is a legacy user as the fixture wrote it, with what the migration
// must make of it.
type User struct {
	ID, Username, Email, Password, Role, Status string
	// Stored is the password attribute as written (Encrypt(Password), or
	// garbage for an account whose password cannot be converted).
	Stored    string
	Duplicate bool // an older user has the same email (in another case)
	Reset     bool // its password cannot be converted
	Tasks     map[string]int
}

// Task is a legacy task as written.
type Task struct{ UserID, ID, Title, Status string }

// Fixture is what Write wrote.
type Fixture struct {
	Users   []User
	Tasks   []Task
	Skipped int // items that are not users
	MaxID   int
}

// Write fills the legacy tables with a small fixture covering what the
// legacy app could leave: mixed-case emails, two users with one email,
// inactive users, admins, values in other cases, timestamps in several
// forms, a password that does not decrypt, a counter item.
func Write(ctx context.Context, db *dynamodb.Client, users, tasks string) (Fixture, error) {
	f := Fixture{Skipped: 1, MaxID: 9}
	f.Users = []User{
		{ID: "VAH1", Username: "root", Email: "Root@Example.com", Password: "R00t!pass", Role: "admin", Status: "active"},
		{ID: "VAH2", Username: "alice", Email: "Alice.Smith@Example.COM", Password: "al!ce1", Role: "user", Status: "active"},
		{ID: "VAH3", Username: "bob", Email: "bob@example.com", Password: "b0b!pw", Role: "user", Status: "inactive"},
		{ID: "VAH4", Username: "alice2", Email: "alice.smith@example.com", Password: "s3cond!", Role: "user", Status: "active", Duplicate: true},
		{ID: "VAH5", Username: "carol", Email: "carol@example.com", Role: "user", Status: "active", Reset: true},
		{ID: "VAH7", Username: "Dave", Email: "Dave@Example.org", Password: "d@ve99", Role: "User", Status: "Active"},
		{ID: "VAH9", Username: "erin", Email: "erin@example.net", Password: "3rin#x", Role: "Admin", Status: "INACTIVE"},
	}
	put := func(table string, item map[string]types.AttributeValue) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item})
		return err
	}
	str := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	for i := range f.Users {
		u := &f.Users[i]
		u.Stored = Encrypt(u.Password)
		if u.Reset {
			u.Stored = "not-a-fernet-token"
		}
		u.Tasks = map[string]int{}
		if err := put(users, map[string]types.AttributeValue{
			"user_id": str(u.ID), "username": str(u.Username), "email": str(u.Email), "password": str(u.Stored),
			"role": str(u.Role), "activation_status": str(u.Status),
		}); err != nil {
			return f, err
		}
	}
	// The legacy id sequence's own item: not a user, left alone.
	if err := put(users, map[string]types.AttributeValue{"user_id": str("user_counter"), "count": &types.AttributeValueMemberN{Value: "9"}}); err != nil {
		return f, err
	}
	created := []types.AttributeValue{
		str("2024-05-01T10:00:00.123456"), str("2024-05-02 11:30:00"), &types.AttributeValueMemberN{Value: "1714557600"},
		str("2024-05-03T08:00:00+02:00"), str("1714557600123"), nil,
	}
	statuses := []string{"pending", "ongoing", "complete", "Complete", "in_progress", "pending"}
	for ui, u := range []string{"VAH1", "VAH2", "VAH3", "VAH4", "VAH7", "VAH9"} {
		for i := range 3 + ui {
			id := uuid.NewString()
			st := statuses[(i+ui)%len(statuses)]
			item := map[string]types.AttributeValue{
				"user_id": str(u), "task_id": str(id), "title": str(fmt.Sprintf("task %d of %s", i, u)), "status": str(st),
			}
			if i%4 != 3 {
				item["description"] = str("legacy description")
			}
			if c := created[(i+ui)%len(created)]; c != nil {
				item["created_at"] = c
			}
			if err := put(tasks, item); err != nil {
				return f, err
			}
			f.Tasks = append(f.Tasks, Task{UserID: u, ID: id, Title: fmt.Sprintf("task %d of %s", i, u), Status: canonical(st)})
			for j := range f.Users {
				if f.Users[j].ID == u {
					f.Users[j].Tasks[canonical(st)]++
				}
			}
		}
	}
	return f, nil
}

func canonical(s string) string {
	switch strings.ToLower(s) {
	case "in_progress":
		return "ongoing"
	}
	return strings.ToLower(s)
}

// WriteMany writes nUsers users with tasksPerUser tasks each (for the
// migration benchmark), in batches of 25.
func WriteMany(ctx context.Context, db *dynamodb.Client, users, tasks string, nUsers, tasksPerUser int) error {
	str := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	var batch []types.WriteRequest
	flush := func(table string) error {
		for len(batch) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}})
			if err != nil {
				return err
			}
			batch = out.UnprocessedItems[table]
			if len(batch) > 0 {
				time.Sleep(50 * time.Millisecond)
			}
		}
		return nil
	}
	add := func(table string, item map[string]types.AttributeValue) error {
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(batch) == 25 {
			return flush(table)
		}
		return nil
	}
	for n := 1; n <= nUsers; n++ {
		if err := add(users, map[string]types.AttributeValue{
			"user_id": str(fmt.Sprintf("VAH%d", n)), "username": str(fmt.Sprintf("user%d", n)), "email": str(fmt.Sprintf("User%d@Example.com", n)),
			"password": str(Encrypt(fmt.Sprintf("pw!%d", n))), "role": str("user"), "activation_status": str("active"),
		}); err != nil {
			return err
		}
	}
	if err := flush(users); err != nil {
		return err
	}
	for n := 1; n <= nUsers; n++ {
		for i := range tasksPerUser {
			if err := add(tasks, map[string]types.AttributeValue{
				"user_id": str(fmt.Sprintf("VAH%d", n)), "task_id": str(uuid.NewString()), "title": str(fmt.Sprintf("task %d", i)),
				"description": str(""), "status": str([]string{"pending", "ongoing", "complete"}[i%3]), "created_at": str("2024-05-01T10:00:00.000000"),
			}); err != nil {
				return err
			}
		}
	}
	return flush(tasks)
}
