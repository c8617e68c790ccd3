package resolvers_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/taskapi/taskapi/internal/assets"
	"github.com/taskapi/taskapi/resolvers"
)

// The playground loads every script and stylesheet from the binary, each
// with the integrity of the embedded file, and nothing from elsewhere.
func TestPlaygroundLoadsOnlyEmbeddedAssets(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	resolvers.Playground().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=UTF-8" {
		t.Fatalf("status %d, %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	re := regexp.MustCompile(`(?:src|href)="([^"]*)"\s+integrity="([^"]*)"`)
	got := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(rec.Body.String(), -1) {
		got[m[1]] = html.UnescapeString(m[2])
	}
	want := []string{assets.ReactJS, assets.ReactDOMJS, assets.GraphiQLCSS, assets.GraphiQLJS}
	if len(got) != len(want) {
		t.Fatalf("page loads %v, want exactly %v", got, want)
	}
	for _, p := range want {
		if got[p] != assets.Integrity(p) {
			t.Errorf("%s: integrity %q, want %q", p, got[p], assets.Integrity(p))
		}
	}
	if other := regexp.MustCompile(`(?:src|href)="(https?:)?//`).FindString(rec.Body.String()); other != "" {
		t.Errorf("page loads something from another host: %s", other)
	}
}
