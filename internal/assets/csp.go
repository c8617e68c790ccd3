package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// PageCSP is the Content-Security-Policy of one of the server's HTML pages
// (the playground, /docs): scripts and stylesheets only from this origin
// (Handler's files) or the inline <script> and <style> blocks of page
// itself, each allowed by its SHA-256 (so no other inline script runs, an
// injected one included); images and fonts from this origin or data: URLs
// (the stylesheets' icons); requests only to this origin (the API); no
// <base>, no form posting elsewhere, no plugins, and no framing at all.
func PageCSP(page []byte) string {
	var b strings.Builder
	b.WriteString("default-src 'none'; script-src 'self'")
	hashes(&b, page, "<script>", "</script>")
	b.WriteString("; style-src 'self'")
	hashes(&b, page, "<style>", "</style>")
	b.WriteString("; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	return b.String()
}

// hashes writes the 'sha256-...' source of every block of page between
// open (an element without attributes) and end.
func hashes(b *strings.Builder, page []byte, open, end string) {
	for {
		i := bytes.Index(page, []byte(open))
		if i < 0 {
			return
		}
		page = page[i+len(open):]
		j := bytes.Index(page, []byte(end))
		if j < 0 {
			return
		}
		sum := sha256.Sum256(page[:j])
		b.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
		page = page[j+len(end):]
	}
}
