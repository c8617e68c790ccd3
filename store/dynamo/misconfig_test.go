package dynamo_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/taskapi/taskapi/store/dynamo"
)

// TestMisconfigurationIsErrUnavailable: what only the operator can fix
// (credentials refused or missing, a role without the permission) is
// ErrUnavailable with the cause kept for the log: the transports answer
// 503, not a 500 that looks like a bug.
func TestMisconfigurationIsErrUnavailable(t *testing.T) {
	for _, code := range []string{
		"com.amazon.coral.service#UnrecognizedClientException",
		"com.amazon.coral.service#InvalidSignatureException",
		"com.amazon.coral.service#ExpiredTokenException",
		"com.amazonaws.dynamodb.v20120810#AccessDeniedException",
	} {
		t.Run(code, func(t *testing.T) {
			endpoint, _ := fakeDynamo(t, func(string, int64) (int, string) {
				return http.StatusBadRequest, `{"__type":"` + code + `","message":"refused"}`
			})
			s := dynamo.New(newClient(t, endpoint, nil), dynamo.Tables{Users: "u", Tasks: "t"})
			_, err := s.GetUser(t.Context(), "VAH1")
			wantUnavailable(t, err)
		})
	}
	t.Run("NoCredentials", func(t *testing.T) {
		isolate(t)
		c, err := dynamo.NewClient(t.Context(), dynamo.Options{Region: "us-east-1"})
		if err != nil {
			// The Lambda image's build (-tags lambdaenv) reads only the
			// environment and says so at once: as clear, and earlier.
			if !strings.Contains(err.Error(), "no AWS credentials") {
				t.Fatal(err)
			}
			return
		}
		s := dynamo.New(c, dynamo.Tables{Users: "u", Tasks: "t"})
		_, err = s.GetUser(t.Context(), "VAH1")
		wantUnavailable(t, err)
	})
}
