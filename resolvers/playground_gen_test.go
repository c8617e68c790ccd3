package resolvers_test

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/taskapi/taskapi/internal/assets"
	"github.com/taskapi/taskapi/resolvers"
)

var update = flag.Bool("update", false, "rewrite playground.html with what gqlgen's playground package renders (go generate ./resolvers)")

// TestPlaygroundPageIsGqlgens fails when playground.html, which the server
// embeds, is not the page gqlgen's playground package renders for
// resolvers.PlaygroundEndpoint with the embedded assets, with the one
// change made to it (headers not kept). With -update it writes the file
// instead.
func TestPlaygroundPageIsGqlgens(t *testing.T) {
	rec := httptest.NewRecorder()
	playground.Handler("taskapi GraphQL", resolvers.PlaygroundEndpoint,
		playground.WithGraphiqlVersion(assets.GraphiQLJS, assets.GraphiQLCSS,
			assets.Integrity(assets.GraphiQLJS), assets.Integrity(assets.GraphiQLCSS)),
		playground.WithGraphiqlReactVersion(assets.ReactJS, assets.ReactDOMJS,
			assets.Integrity(assets.ReactJS), assets.Integrity(assets.ReactDOMJS)),
	).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	want := rec.Body.Bytes()
	for _, edit := range resolvers.PlaygroundEdits() {
		if bytes.Count(want, []byte(edit[0])) != 1 {
			t.Fatalf("gqlgen's page no longer has %q once: review the change made to it (resolvers/playground.go)", edit[0])
		}
		want = bytes.Replace(want, []byte(edit[0]), []byte(edit[1]), 1)
	}
	if *update {
		if err := os.WriteFile("playground.html", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	served := httptest.NewRecorder()
	resolvers.Playground().ServeHTTP(served, httptest.NewRequest(http.MethodGet, "/", nil))
	if !bytes.Equal(served.Body.Bytes(), want) || !strings.EqualFold(served.Header().Get("Content-Type"), rec.Header().Get("Content-Type")) {
		t.Fatal("resolvers/playground.html is not what gqlgen's playground package renders: run go generate ./resolvers and commit the result")
	}
}
