//go:build openapi

// Command openapigen writes the REST shim's OpenAPI document, which the
// server embeds, from the route table and payload types of package rest
// (rest.OpenAPIDocument). It links huma, so the server does not have to. Run
// it through go generate, from the repository root:
//
//	go generate ./rest
//
// which runs, in rest/, go run -tags openapi ./internal/openapigen.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/taskapi/taskapi/rest"
)

func main() {
	out := flag.String("o", "openapi.json", "the file to write (relative to the working directory, rest/ under go generate)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	doc, err := rest.OpenAPIDocument()
	if err != nil {
		return fmt.Errorf("build the document: %w", err)
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, doc) {
		return nil // unchanged: leave the file (and its modification time) alone
	}
	return os.WriteFile(out, doc, 0o644)
}
