package assets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/taskapi/taskapi/internal/assets"
)

var pageFiles = []struct{ path, contentType string }{
	{assets.GraphiQLJS, "text/javascript; charset=utf-8"},
	{assets.GraphiQLCSS, "text/css; charset=utf-8"},
	{assets.ReactJS, "text/javascript; charset=utf-8"},
	{assets.ReactDOMJS, "text/javascript; charset=utf-8"},
	{assets.SwaggerUIJS, "text/javascript; charset=utf-8"},
	{assets.SwaggerUICSS, "text/css; charset=utf-8"},
}

func get(tb testing.TB, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandler(t *testing.T) {
	t.Parallel()
	h := assets.Handler()
	for _, f := range pageFiles {
		t.Run("OK"+f.path, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, f.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != f.contentType {
				t.Errorf("Content-Type = %q, want %q", got, f.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q", got)
			}
			sum := sha256.Sum256(rec.Body.Bytes())
			if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != assets.Integrity(f.path) {
				t.Errorf("body hashes to %s, Integrity says %s", got, assets.Integrity(f.path))
			}
			if rec.Body.Len() < 1000 {
				t.Errorf("body is only %d bytes", rec.Body.Len())
			}

			etag := rec.Header().Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			again := get(t, h, http.MethodGet, f.path, map[string]string{"If-None-Match": etag})
			if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
				t.Errorf("revalidation: status %d, %d bytes; want 304 and no body", again.Code, again.Body.Len())
			}
			head := get(t, h, http.MethodHead, f.path, nil)
			if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Type") != f.contentType {
				t.Errorf("HEAD: status %d, %d bytes, %q", head.Code, head.Body.Len(), head.Header().Get("Content-Type"))
			}
		})
	}
	for _, target := range []string{
		"/static/",
		"/static/graphiql@4.1.2",
		"/static/graphiql@4.1.2/",
		"/static/graphiql@4.1.2/graphiql.min.js.map",
		"/static/nope.js",
		"/static/../assets.go",
		"/static/graphiql@4.1.2/../../assets.go",
		"/assets.go",
	} {
		t.Run("404"+target, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, target, nil)
			if rec.Code != http.StatusNotFound || rec.Body.String() != `{"detail":"Not Found"}` {
				t.Fatalf("status %d: %.100s", rec.Code, rec.Body.String())
			}
		})
	}
	t.Run("405Post", func(t *testing.T) {
		rec := get(t, h, http.MethodPost, assets.GraphiQLJS, nil)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Fatalf("status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})
	t.Run("OKLicences", func(t *testing.T) {
		for _, p := range []string{"graphiql@4.1.2/LICENSE", "react@18.2.0/LICENSE", "react-dom@18.2.0/LICENSE",
			"swagger-ui-dist@5.35.0/LICENSE", "swagger-ui-dist@5.35.0/NOTICE"} {
			rec := get(t, h, http.MethodGet, assets.Prefix+p, nil)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("%s: status %d, %q", p, rec.Code, rec.Header().Get("Content-Type"))
			}
		}
	})
}

// The embedded GraphiQL and React files are the very bytes of the CDN's:
// they match the integrity hashes gqlgen's own playground page pins.
func TestIntegrityMatchesGqlgenCDNPage(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	playground.Handler("t", "/graphql")(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body, _ := io.ReadAll(rec.Body)
	// src="..." or href="..." followed by integrity="...".
	re := regexp.MustCompile(`(?:src|href)="https://cdn\.jsdelivr\.net/npm/([^"]+)"\s+integrity="([^"]+)"`)
	pinned := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		pinned[m[1]] = html.UnescapeString(m[2])
	}
	for _, p := range []string{assets.GraphiQLJS, assets.GraphiQLCSS, assets.ReactJS, assets.ReactDOMJS} {
		name := strings.TrimPrefix(p, assets.Prefix)
		want, ok := pinned[name]
		if !ok {
			t.Errorf("gqlgen's page no longer loads %s (pinned: %v): update the embedded version", name, pinned)
			continue
		}
		if got := assets.Integrity(p); got != want {
			t.Errorf("%s: integrity %s, gqlgen pins %s", name, got, want)
		}
	}
}

func TestIntegrityPanicsForUnknownFile(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	assets.Integrity("/static/nope.js")
}
