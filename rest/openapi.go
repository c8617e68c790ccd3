package rest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sync"

	"github.com/taskapi/taskapi/internal/assets"
)

//go:generate go run -tags openapi ./internal/openapigen

const (
	openAPIPath = "/openapi.json"
	docsPath    = "/docs"
)

// openAPIFile is the shim's OpenAPI document, generated at build time from
// the route table and the payload types by `go generate ./rest` (see
// openapi_gen.go, built only with -tags openapi, so the server does not link
// huma). It is indented; a tagged test fails when it differs from what the
// code generates.
//
//go:embed openapi.json
var openAPIFile []byte

// openAPIDocument is what GET /openapi.json answers: openAPIFile compacted,
// i.e. exactly the bytes the generator's json.Marshal wrote, made on the
// first request rather than at every cold start. An error is a programming
// error (a broken openapi.json), caught by the tests that fetch it.
var openAPIDocument = sync.OnceValues(func() ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, openAPIFile); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
})

// docsCSP allows the page's own inline script by hash (assets.PageCSP).
var docsCSP = sync.OnceValue(func() string { return assets.PageCSP([]byte(swaggerUI)) })

// swaggerUI is the page FastAPI serves at /docs, with Swagger UI loaded
// from the binary (assets.Handler, mounted at assets.Prefix) rather than a
// CDN, so it works offline. The scripts come from the same origin as the
// page, so they need no integrity attribute.
const swaggerUI = `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<link type="text/css" rel="stylesheet" href="` + assets.SwaggerUICSS + `">
<title>taskapi — legacy REST API - Swagger UI</title>
</head>
<body>
<div id="swagger-ui">
</div>
<script src="` + assets.SwaggerUIJS + `"></script>
<script>
const ui = SwaggerUIBundle({
    url: '` + openAPIPath + `',
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": true,
    "showExtensions": true,
    "showCommonExtensions": true,
    "validatorUrl": null,
    presets: [
        SwaggerUIBundle.presets.apis,
        SwaggerUIBundle.SwaggerUIStandalonePreset
        ],
    })
</script>
</body>
</html>
`
