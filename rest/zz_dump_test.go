package rest_test

import (
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, req{method: "GET", path: "/openapi.json"})
	_ = os.WriteFile("/tmp/openapi.json", []byte(r.raw), 0o644)
}
