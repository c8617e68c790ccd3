package assets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/taskapi/taskapi/internal/assets"
)

func TestPageCSP(t *testing.T) {
	src := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	page := `<html><head><style>body { margin: 0 }</style><script src="/static/x.js"></script></head>` +
		`<body><script>go(1)</script><script>go(2)</script></body></html>`
	csp := assets.PageCSP([]byte(page))
	want := "default-src 'none'; script-src 'self' " + src("go(1)") + " " + src("go(2)") +
		"; style-src 'self' " + src("body { margin: 0 }") +
		"; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	if csp != want {
		t.Fatalf("PageCSP =\n%s\nwant\n%s", csp, want)
	}
	if strings.Contains(assets.PageCSP([]byte(`<script>unterminated`)), "sha256") {
		t.Fatal("an unterminated block is allowed")
	}
}
