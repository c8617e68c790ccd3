// Package assets serves the browser files of the GraphQL playground
// (GraphiQL and React) and of the REST docs (Swagger UI) from the binary,
// so both pages work with no internet access.
//
// The files under files/ are the npm packages' own, byte for byte, at the
// same paths as on the jsDelivr CDN (so the Subresource Integrity hashes
// gqlgen publishes for its CDN page still match); update.sh fetches them
// with `npm pack`. Their licences are next to them: GraphiQL, React and
// React DOM are MIT; Swagger UI is Apache-2.0 (with its NOTICE), and its
// bundle lists the MIT/BSD/ISC licences of what it bundles.
package assets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the URL path under which Handler serves the files.
const Prefix = "/static/"

// The URL paths of the files the pages load. Each path names its package's
// version, so a file never changes at its URL and may be cached forever.
const (
	GraphiQLJS   = Prefix + "graphiql@4.1.2/graphiql.min.js"
	GraphiQLCSS  = Prefix + "graphiql@4.1.2/graphiql.min.css"
	ReactJS      = Prefix + "react@18.2.0/umd/react.production.min.js"
	ReactDOMJS   = Prefix + "react-dom@18.2.0/umd/react-dom.production.min.js"
	SwaggerUIJS  = Prefix + "swagger-ui-dist@5.35.0/swagger-ui-bundle.js"
	SwaggerUICSS = Prefix + "swagger-ui-dist@5.35.0/swagger-ui.css"
)

// cacheControl lets browsers and CDNs keep a file for a year without asking
// again: its URL changes with its content.
const cacheControl = "public, max-age=31536000, immutable"

//go:embed files
var files embed.FS

// Integrity is the Subresource Integrity value ("sha256-...") of the file
// at the URL path p, one of the constants above. It panics for a path that
// is not embedded: a programming error, caught by the tests.
func Integrity(p string) string {
	b, err := files.ReadFile(fsPath(p))
	if err != nil {
		panic("assets: no embedded file for " + p)
	}
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// fsPath maps a URL path under Prefix to its path in files.
func fsPath(p string) string {
	return "files/" + strings.TrimPrefix(p, Prefix)
}

type file struct {
	data        []byte
	contentType string
	etag        string
}

// Handler serves every embedded file at Prefix + its path, for GET and
// HEAD, with its content type, a strong ETag and a year-long immutable
// Cache-Control; conditional and range requests work as net/http's
// ServeContent does them. Anything else under Prefix is a JSON 404.
func Handler() http.Handler {
	byPath := map[string]file{}
	err := fs.WalkDir(files, "files", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		byPath[Prefix+strings.TrimPrefix(name, "files/")] = file{
			data:        b,
			contentType: contentType(name),
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("assets: read embedded files: " + err.Error()) // cannot happen with embed.FS
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := byPath[r.URL.Path]
		switch {
		case !ok:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
			return
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"detail":"Method Not Allowed"}`))
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", cacheControl)
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
	})
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "text/plain; charset=utf-8" // LICENSE, NOTICE, *.LICENSE.txt
}
