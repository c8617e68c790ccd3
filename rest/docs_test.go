package rest_test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/taskapi/taskapi/internal/assets"
)

// /docs loads Swagger UI from the binary and nothing from elsewhere.
func TestDocsLoadsOnlyEmbeddedAssets(t *testing.T) {
	t.Parallel()
	w := httpRequest(t, newEnv(t), http.MethodGet, "/docs", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	var loaded []string
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(w.Body.String(), -1) {
		loaded = append(loaded, m[1])
	}
	slices.Sort(loaded)
	if want := []string{assets.SwaggerUIJS, assets.SwaggerUICSS}; !slices.Equal(loaded, want) {
		t.Fatalf("page loads %v, want %v", loaded, want)
	}
}
