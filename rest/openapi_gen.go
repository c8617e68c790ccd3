//go:build openapi

package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// The OpenAPI document is derived from the route table and the payload
// types the handlers decode and encode: huma's OpenAPI model and schema
// registry derive the schemas from the Go types (field tags for names,
// enums, formats; TransformSchema, in models_openapi.go, for limits taken
// from core), so the document cannot drift from what the handlers do.
// huma's router, validation and error model are not used: they cannot
// produce FastAPI's exact bodies (see docs/rest.md).
//
// This happens at build time, not in the server: linking huma costs about
// 3 ms of package initialization at every process start (Lambda cold
// starts included). `go generate ./rest` runs internal/openapigen, which
// writes OpenAPIDocument to openapi.json; the server embeds that file
// (openapi.go), and a test built with -tags openapi fails when it is stale.

const (
	tokenURL = "/api/v1/auth/login"

	schemeOAuth2 = "OAuth2PasswordBearer"
	schemeBearer = "HTTPBearer"
)

// OpenAPIDocument is the content of openapi.json: the document, indented
// for review, with a final newline. New serves its compact form, which is
// byte for byte document's output (json.Indent and json.Compact leave the
// strings alone). The route table is built without a service: building it
// only captures the service in the handlers' closures.
func OpenAPIDocument() ([]byte, error) {
	doc, err := document(routes(nil))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func document(rs []route) ([]byte, error) {
	reg := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
	oapi := &huma.OpenAPI{
		OpenAPI: "3.1.0",
		Info: &huma.Info{
			Title:   "taskapi — legacy REST API",
			Version: "1.0.0",
			Description: "The `/api/v1` endpoints of the legacy FastAPI task manager, kept compatible. " +
				"New clients should prefer the GraphQL API at `/graphql`. " +
				"Authorize with a bearer token from `POST " + tokenURL + "` (JSON or the OAuth2 password form; the form's `username` is the email).",
		},
		Components: &huma.Components{
			Schemas: reg,
			SecuritySchemes: map[string]*huma.SecurityScheme{
				schemeOAuth2: {
					Type:        "oauth2",
					Description: "OAuth2 password flow: the username is the email.",
					Flows:       &huma.OAuthFlows{Password: &huma.OAuthFlow{TokenURL: tokenURL, Scopes: map[string]string{}}},
				},
				schemeBearer: {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
			},
		},
		Tags: []*huma.Tag{
			{Name: "auth", Description: "Accounts and tokens."},
			{Name: "tasks", Description: "The caller's own tasks."},
			{Name: "admin", Description: "User management (admins only)."},
		},
	}
	httpErr := reg.Schema(reflect.TypeFor[httpError](), true, "")
	validationErr := reg.Schema(reflect.TypeFor[httpValidationError](), true, "")
	errResponse := func(desc string) *huma.Response {
		return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{"application/json": {Schema: httpErr}}}
	}

	for _, rt := range rs {
		op := &huma.Operation{
			Method:      rt.method,
			Path:        rt.path,
			OperationID: rt.id,
			Summary:     rt.summary,
			Tags:        []string{rt.tag},
			Responses: map[string]*huma.Response{
				"200": {Description: "Successful Response", Content: map[string]*huma.MediaType{"application/json": {Schema: schemaOf(reg, rt.out)}}},
			},
		}
		for _, name := range pathParams(rt.path) {
			op.Parameters = append(op.Parameters, &huma.Param{Name: name, In: "path", Required: true, Schema: &huma.Schema{Type: huma.TypeString}})
		}
		if rt.in != nil {
			content := map[string]*huma.MediaType{"application/json": {Schema: reg.Schema(rt.in, true, "")}}
			if rt.form {
				content["application/x-www-form-urlencoded"] = &huma.MediaType{Schema: reg.Schema(reflect.TypeFor[loginForm](), true, "")}
			}
			op.RequestBody = &huma.RequestBody{Required: true, Content: content}
			op.Responses["413"] = errResponse("Request body too large")
			op.Responses["422"] = &huma.Response{Description: "Validation Error", Content: map[string]*huma.MediaType{"application/json": {Schema: validationErr}}}
		}
		secured := []map[string][]string{{schemeOAuth2: {}}, {schemeBearer: {}}}
		switch rt.access {
		case bearer, admin:
			op.Security = secured
			unauthorized := errResponse("Not authenticated, or the token is invalid, expired or its user inactive")
			unauthorized.Headers = map[string]*huma.Param{"WWW-Authenticate": {Schema: &huma.Schema{Type: huma.TypeString, Enum: []any{"Bearer"}}}}
			op.Responses["401"] = unauthorized
		case optionalBearer:
			op.Security = append([]map[string][]string{{}}, secured...)
		}
		if rt.access == admin {
			op.Responses["403"] = errResponse("The caller is not an admin")
		}
		for _, status := range rt.errs {
			r := errResponse(errorDescription(status))
			switch status {
			case http.StatusUnauthorized:
				r.Headers = map[string]*huma.Param{"WWW-Authenticate": {Schema: &huma.Schema{Type: huma.TypeString, Enum: []any{"Bearer"}}}}
			case http.StatusTooManyRequests:
				r.Headers = map[string]*huma.Param{"Retry-After": {Description: "Seconds to wait.", Schema: &huma.Schema{Type: huma.TypeInteger}}}
			}
			op.Responses[strconv.Itoa(status)] = r
		}
		oapi.AddOperation(op)
	}
	return json.Marshal(oapi)
}

func errorDescription(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Incorrect email or password"
	case http.StatusNotFound:
		return "Not found, or not the caller's"
	case http.StatusConflict:
		return "Email already registered"
	case http.StatusTooManyRequests:
		return "Too many attempts; retry after Retry-After seconds"
	}
	return http.StatusText(status)
}

// schemaOf is t's schema; a slice is a (never null) JSON array.
func schemaOf(reg huma.Registry, t reflect.Type) *huma.Schema {
	if t.Kind() == reflect.Slice {
		return &huma.Schema{Type: huma.TypeArray, Items: reg.Schema(t.Elem(), true, "")}
	}
	return reg.Schema(t, true, "")
}

// pathParams lists the {names} of a path pattern.
func pathParams(path string) []string {
	var names []string
	for seg := range strings.SplitSeq(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return slices.Clip(names)
}
