package resolvers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Media types of a GraphQL response.
const (
	// MediaTypeGraphQLResponse is the GraphQL-over-HTTP media type: its
	// status code tells whether the operation ran (200) or was refused
	// before running (4xx).
	MediaTypeGraphQLResponse = "application/graphql-response+json"
	// MediaTypeJSON is for clients older than that: every GraphQL answer
	// to a well-formed request is 200, as they expect.
	MediaTypeJSON = "application/json"
)

// httpTransport serves GraphQL over HTTP as the GraphQL Foundation's
// GraphQL-over-HTTP specification says, for POST (application/json bodies)
// and GET (queries only):
//   - the response media type follows Accept (see negotiate):
//     application/graphql-response+json unless the client prefers
//     application/json or sends only wildcards (fetch's default */*); no
//     Accept at all means application/graphql-response+json, as the
//     specification says since 2025; an Accept with neither is 406;
//   - with application/graphql-response+json, a request the server refuses
//     before executing it (parse, validation, variables, limits, an unknown
//     persisted query) is 400; with application/json it is 200, since a
//     legacy client cannot tell a non-200 answer from a proxy's error page;
//   - a request that is not GraphQL over HTTP at all (a body that is not a
//     JSON object, a missing query, variables that are not an object) is
//     400 in both; a POST body of another media type is 415;
//   - a mutation over GET is 405 with Allow: POST, and is not executed;
//     methods other than GET, POST and OPTIONS are 405.
//
// Every answer is a GraphQL response ({"errors": [...]} with
// extensions.code) in the negotiated media type.
type httpTransport struct {
	live bool // the subscription transports are there (a subscription here is misdirected, not unserved)
}

var _ graphql.Transport = httpTransport{}

// Supports takes every request but OPTIONS (transport.Options answers
// those) and WebSocket upgrades.
func (httpTransport) Supports(r *http.Request) bool {
	return r.Method != http.MethodOptions && r.Header.Get("Upgrade") == ""
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	h := w.Header()
	h.Add("Vary", "Accept")
	mediaType, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		mediaType = MediaTypeJSON
	}
	h.Set("Content-Type", mediaType+"; charset=utf-8")
	switch {
	case !ok:
		writeRequestError(w, http.StatusNotAcceptable, "the response can only be "+MediaTypeGraphQLResponse+" or "+MediaTypeJSON+": list one in Accept")
		return
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		h.Set("Allow", "GET, POST, OPTIONS")
		writeRequestError(w, http.StatusMethodNotAllowed, "use POST, or GET for a query")
		return
	}

	start := graphql.Now()
	params, status, msg := readParams(r)
	if status != 0 {
		if status == http.StatusUnsupportedMediaType {
			h.Set("Accept-Post", MediaTypeJSON)
		}
		writeRequestError(w, status, msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		errs = expandErrors(errs)
		if mediaType == MediaTypeGraphQLResponse {
			w.WriteHeader(http.StatusBadRequest)
		}
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs))
		return
	}
	if opCtx.Operation.Operation == ast.Subscription {
		// A subscription's answers are a stream: over a plain request it
		// would hold the connection until its first event.
		msg := "a subscription needs a WebSocket (graphql-transport-ws) or Accept: text/event-stream"
		if !t.live {
			msg = "subscriptions are not served here (the Lambda image): subscribe to a server run with taskapi serve"
		}
		writeRequestError(w, http.StatusBadRequest, msg)
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		h.Set("Allow", http.MethodPost)
		writeRequestError(w, http.StatusMethodNotAllowed, "a "+string(opCtx.Operation.Operation)+" needs POST: GET runs queries only")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	if resp := responses(ctx); resp != nil { // nil: the client has gone
		writeResponse(w, resp)
	}
}

// readParams decodes a request's GraphQL parameters; a non-zero status and
// a message when it is not a well-formed GraphQL-over-HTTP request. A POST
// body is decoded in one pass, variables included (a megabyte of variables
// is read once, not once for the body and again for the variables).
func readParams(r *http.Request) (*graphql.RawParams, int, string) {
	var wire struct {
		Query         *string `json:"query"`
		OperationName *string `json:"operationName"`
		Variables     any     `json:"variables"`
		Extensions    any     `json:"extensions"`
	}
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusBadRequest, "the URL's query string is malformed"
		}
		if q.Has("query") {
			wire.Query = new(q.Get("query"))
		}
		if q.Has("operationName") {
			wire.OperationName = new(q.Get("operationName"))
		}
		var ok bool
		if wire.Variables, ok = decodeJSON(q.Get("variables")); !ok {
			return nil, http.StatusBadRequest, "variables must be a JSON object"
		}
		if wire.Extensions, ok = decodeJSON(q.Get("extensions")); !ok {
			return nil, http.StatusBadRequest, "extensions must be a JSON object"
		}
	} else {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != MediaTypeJSON {
			return nil, http.StatusUnsupportedMediaType, "send the request as Content-Type: " + MediaTypeJSON
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, http.StatusRequestEntityTooLarge, "request body too large"
			}
			return nil, http.StatusBadRequest, "the request body could not be read"
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if bytes.Equal(bytes.TrimSpace(body), []byte("null")) || dec.Decode(&wire) != nil || !atEOF(dec) {
			// The body is never echoed: it may hold a password.
			return nil, http.StatusBadRequest, "the request body must be a JSON object with a string query and optional operationName, variables and extensions"
		}
	}

	p := &graphql.RawParams{}
	if wire.Query != nil {
		p.Query = *wire.Query
	}
	if wire.OperationName != nil {
		p.OperationName = *wire.OperationName
	}
	var ok bool
	if p.Variables, ok = object(wire.Variables); !ok {
		return nil, http.StatusBadRequest, "variables must be a JSON object"
	}
	if p.Extensions, ok = object(wire.Extensions); !ok {
		return nil, http.StatusBadRequest, "extensions must be a JSON object"
	}
	if wire.Query == nil && p.Extensions["persistedQuery"] == nil {
		return nil, http.StatusBadRequest, "the request has no query"
	}
	return p, 0, ""
}

// decodeJSON decodes one JSON value ("" or blank: nil), keeping numbers as
// json.Number as gqlgen expects; false when s is not JSON.
func decodeJSON(s string) (any, bool) {
	if strings.TrimSpace(s) == "" {
		return nil, true
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || !atEOF(dec) {
		return nil, false
	}
	return v, true
}

func atEOF(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == io.EOF
}

// object is v as a JSON object: absent or null is nil; false when v is
// anything else.
func object(v any) (map[string]any, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// negotiate picks the response media type for an Accept header: the one
// with the highest q-value, counting for each the most specific range that
// matches it (RFC 9110 §12.5.1). On a tie, an explicitly listed type beats
// one matched by a wildcard, and application/graphql-response+json beats
// application/json except when both come from the same wildcard (*/* is
// what fetch sends by default, and is answered as legacy JSON). False when
// the client accepts neither.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return MediaTypeGraphQLResponse, true
	}
	type match struct {
		q           float64
		specificity int // 0 none, 1 */*, 2 application/*, 3 exact
	}
	var gr, js match
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		for _, c := range []struct {
			m    *match
			name string
		}{{&gr, MediaTypeGraphQLResponse}, {&js, MediaTypeJSON}} {
			spec := 0
			switch mt {
			case c.name:
				spec = 3
			case "application/*":
				spec = 2
			case "*/*":
				spec = 1
			}
			if spec > c.m.specificity || (spec == c.m.specificity && spec > 0 && q > c.m.q) {
				*c.m = match{q: q, specificity: spec}
			}
		}
	}
	switch {
	case gr.q <= 0 && js.q <= 0:
		return "", false
	case gr.q != js.q:
		if gr.q > js.q {
			return MediaTypeGraphQLResponse, true
		}
		return MediaTypeJSON, true
	case gr.specificity == 3:
		return MediaTypeGraphQLResponse, true
	case js.specificity == 3:
		return MediaTypeJSON, true
	}
	return MediaTypeJSON, true // both from the same wildcard
}

// writeRequestError answers a request that was not executed with one
// error coded BAD_REQUEST.
func writeRequestError(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	err := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeBadRequest}}
	writeResponse(w, &graphql.Response{Errors: gqlerror.List{err}})
}

// writeResponse writes resp. One without data (a request error) has no
// data entry at all, as the GraphQL specification says.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if len(resp.Errors) == 0 && len(resp.Data) > 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil && resp.Extensions == nil {
		// Data alone, as gqlgen wrote it (compact JSON): what json.Marshal
		// would write, without re-validating every byte of it.
		b := make([]byte, 0, len(resp.Data)+len(`{"data":}`))
		b = append(append(append(b, `{"data":`...), resp.Data...), '}')
		_, _ = w.Write(b)
		return
	}
	var v any = resp
	if resp.Data == nil {
		v = struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions}
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only an extension value JSON cannot encode gets here.
		b = []byte(`{"errors":[{"message":"` + internalMessage + `","extensions":{"code":"` + CodeInternal + `"}}]}`)
	}
	_, _ = w.Write(b)
}
