package rest

import (
	"strings"
	"testing"
)

// BenchmarkParseBody: what reading a JSON body costs before the fields are
// bound, for a typical create-task body and for a large array (refused).
func BenchmarkParseBody(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"CreateTask", `{"title":"Write the quarterly report","description":"Numbers from finance, charts from design","status":"pending","priority":"high","due_date":"2026-12-01T12:00:00Z"}`},
		{"Array100k", "[" + strings.Repeat("0,", 100_000) + "0]"},
	} {
		data := []byte(bc.body)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, _ = parseBody(data, "application/json", false, 1<<20)
			}
		})
	}
}
