//go:build openapi

package rest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// TestOpenAPIDrift fails when openapi.json, which the server embeds, is not
// what the route table and payload types generate, and checks that the
// server answers exactly the bytes huma marshals (the file is indented; the
// answer is its compact form). Run it with -tags openapi (scripts/test.sh
// does).
func TestOpenAPIDrift(t *testing.T) {
	t.Run("FileIsGenerated", func(t *testing.T) {
		want, err := OpenAPIDocument()
		if err != nil {
			t.Fatalf("generate: %v", err)
		}
		// The file on disk, which is what gets committed and embedded; the
		// embedded copy is checked by what the server answers, below.
		got, err := os.ReadFile("openapi.json")
		if err != nil {
			t.Fatalf("%v: run go generate ./rest", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("rest/openapi.json is not what the code generates: run go generate ./rest (and commit the result)\n%s", firstDiff(got, want))
		}
	})

	t.Run("ServedIsMarshalled", func(t *testing.T) {
		want, err := document(routes(nil))
		if err != nil {
			t.Fatalf("document: %v", err)
		}
		w := httptest.NewRecorder()
		New(nil, Options{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, openAPIPath, nil))
		res := w.Result()
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != contentJSON {
			t.Fatalf("GET %s: %d %s", openAPIPath, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("served document (%d bytes) is not the marshalled one (%d bytes)\n%s", len(got), len(want), firstDiff(got, want))
		}
	})
}

// firstDiff says where got first differs from want: the line, and some
// context around that byte in each.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	around := func(b []byte) []byte { // that line, at most 60 bytes either side
		from := bytes.LastIndexByte(b[:min(i, len(b))], '\n') + 1
		to := len(b)
		if n := bytes.IndexByte(b[min(i, len(b)):], '\n'); n >= 0 {
			to = min(i, len(b)) + n
		}
		return bytes.ToValidUTF8(b[max(from, i-60):min(to, i+60)], []byte("?"))
	}
	return fmt.Sprintf("first difference at line %d, byte %d:\n  got:  %s\n  want: %s",
		bytes.Count(want[:i], []byte("\n"))+1, i, around(got), around(want))
}
