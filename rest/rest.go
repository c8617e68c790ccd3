// Package rest is the /api/v1 shim that keeps the legacy FastAPI app's
// endpoints working for existing clients: it decodes the legacy snake_case
// payloads, calls the one core.Service, and encodes the legacy shapes, with
// FastAPI's error bodies. It also serves the shim's OpenAPI document
// (/openapi.json) and its Swagger UI (/docs). The document is derived from
// the same route table and payload types the handlers use, at build time
// (go generate ./rest, which needs -tags openapi; see openapi_gen.go), and
// embedded: the server does not link the generator's dependencies.
//
// Authentication is read from the request context (core.WithRequest), so the
// handler must run behind internal/httpauth.Middleware.
package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/requestinfo"
	"github.com/taskapi/taskapi/internal/respcache"
)

// DefaultMaxBodyBytes caps request bodies when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes int64 = core.MaxBodyBytes

// Options configures the handler.
type Options struct {
	// Logger receives internal errors (once each, never sent to clients).
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies (413 above it); 0 means 1 MiB.
	MaxBodyBytes int64
}

// access is who may call an endpoint; it gates the request (through core's
// Actor and Admin) before the body's fields are read, as FastAPI's security
// dependencies run before body validation, and documents the endpoint.
type access int

const (
	public access = iota
	bearer
	admin
	optionalBearer // public, but a token changes what is allowed (register)
)

// route is one endpoint: what the router serves and the OpenAPI document
// lists, from the same value. summary, tag, errs and out only feed the
// document, which is generated with -tags openapi (openapi_gen.go).
type route struct {
	method  string
	path    string // ServeMux pattern syntax, which is OpenAPI's too
	id      string // operationId
	summary string
	tag     string
	access  access
	form    bool // also accepts the OAuth2 password form
	cached  bool // a GET of the caller's own data: answers are kept per (caller, version)
	errs    []int
	in, out reflect.Type
	serve   func(h *handler, w http.ResponseWriter, r *http.Request) (any, error)
}

type handler struct {
	svc     *core.Service
	log     *slog.Logger
	maxBody int64
	cache   *respcache.Cache
}

// New returns the handler serving /api/v1/..., /openapi.json and /docs
// (full paths: mount it at the root).
func New(svc *core.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &handler{svc: svc, log: opts.Logger, maxBody: opts.MaxBodyBytes, cache: respcache.New(0, 0, nil)}
	rs := routes(svc)

	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range rs {
		mux.HandleFunc(rt.method+" "+rt.path, labeled(rt.method+" "+rt.path, h.endpoint(rt)))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	mux.HandleFunc("GET "+openAPIPath, labeled("GET "+openAPIPath, func(w http.ResponseWriter, r *http.Request) {
		b, err := openAPIDocument()
		if err != nil {
			h.fail(w, r, fmt.Errorf("embedded OpenAPI document: %w", err))
			return
		}
		writeRaw(w, http.StatusOK, contentJSON, b)
	}))
	mux.HandleFunc("GET "+docsPath, labeled("GET "+docsPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", docsCSP())
		writeRaw(w, http.StatusOK, "text/html; charset=utf-8", []byte(swaggerUI))
	}))
	for path, methods := range allowed {
		mux.HandleFunc(path, methodNotAllowed(methods))
		if slices.Contains(methods, http.MethodGet) {
			// ServeMux serves HEAD with GET; FastAPI's routes answer
			// only the methods they declare.
			mux.HandleFunc(http.MethodHead+" "+path, methodNotAllowed(methods))
		}
	}
	for _, path := range []string{openAPIPath, docsPath} { // HEAD served with GET
		mux.HandleFunc(path, methodNotAllowed([]string{http.MethodGet, http.MethodHead}))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if to, ok := slashRedirect(mux, r); ok {
			// Starlette's RedirectResponse: no body (http.Redirect would
			// write an HTML one for a GET).
			w.Header().Set("Location", to)
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		writeJSON(w, http.StatusNotFound, httpError{Detail: "Not Found"})
	})
	return h.recover(mux)
}

// labeled labels a counted request (requestinfo) with its route template,
// never its path: a path carries ids, and every id would be a series.
// Requests no route matches keep the label the server gave them.
func labeled(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requestinfo.Set(r.Context(), requestinfo.REST, route)
		h(w, r)
	}
}

// slashRedirect is Starlette's redirect_slashes: a path that is unknown
// only because of a trailing slash (one too many or missing) is redirected
// (307, so the method and body are kept) to the known one.
func slashRedirect(mux *http.ServeMux, r *http.Request) (string, bool) {
	p := r.URL.Path
	if p == "/" {
		return "", false
	}
	alt := p + "/"
	if strings.HasSuffix(p, "/") {
		alt = strings.TrimSuffix(p, "/")
	}
	u := *r.URL
	u.Path, u.RawPath = alt, ""
	probe := r.Clone(r.Context())
	probe.URL = &u
	if _, pattern := mux.Handler(probe); pattern == "" || pattern == "/" {
		return "", false
	}
	return u.RequestURI(), true
}

// methodNotAllowed answers a known path asked with another method, as
// Starlette does, with the path's methods in Allow.
func methodNotAllowed(methods []string) http.HandlerFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, httpError{Detail: "Method Not Allowed"})
	}
}

// endpoint runs one route: read and parse the body, check access, bind the
// fields, call the core, write the answer. A cached route's answer is kept
// per caller and version of their data (core.Service.ReadVersion, taken
// when the request is authenticated), and given again while that version
// holds; with a store that cannot version, nothing is kept.
func (h *handler) endpoint(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := ""
		if rt.cached {
			if u, version, err := h.svc.ReadVersion(r.Context()); err == nil && version != "" {
				key = respcache.Key("rest", rt.id, u.ID, version)
				if body, ok := h.cache.Get(key); ok {
					writeRaw(w, http.StatusOK, contentJSON, body)
					return
				}
			}
		}
		out, err := rt.serve(h, w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if e, ok := out.(exportResponse); ok {
			h.stream(w, r, e.write)
			return
		}
		body, err := encodeJSON(out)
		if err != nil { // only an unencodable type (a bug) gets here
			h.fail(w, r, err)
			return
		}
		if key != "" {
			h.cache.Put(key, body)
		}
		writeRaw(w, http.StatusOK, contentJSON, body)
	}
}

// stream answers 200 with the JSON document write produces as it goes. An
// error before its first byte is answered as any other; one after it can
// only cut the response short (logged), which a client sees as invalid JSON.
func (h *handler) stream(w http.ResponseWriter, r *http.Request, write func(io.Writer) error) {
	sw := &lazyWriter{w: w}
	if err := write(sw); err != nil {
		if !sw.started {
			h.fail(w, r, err)
			return
		}
		h.log.ErrorContext(r.Context(), "streamed response cut short", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler) // the client must not take a truncated body for a whole one
	}
}

// lazyWriter sends the headers with the first byte, so that an error
// before it can still choose the status.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h["Content-Type"] = contentJSONValue
		h["X-Content-Type-Options"] = nosniff
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

// op makes the serve function of a route from a typed call: In is the body
// type (noBody for none), Out the success body; both also document the route.
func op[In any, Out any](rt route, call func(ctx context.Context, r *http.Request, in *In) (Out, error)) route {
	rt.out = reflect.TypeFor[Out]()
	if reflect.TypeFor[In]() != reflect.TypeFor[noBody]() {
		rt.in = reflect.TypeFor[In]()
	}
	rt.serve = func(h *handler, w http.ResponseWriter, r *http.Request) (any, error) {
		var in In
		var p *payload
		if rt.in != nil {
			data, err := readBody(w, r, h.maxBody)
			if err != nil {
				return nil, err
			}
			if p, err = parseBody(data, r.Header.Get("Content-Type"), rt.form, h.maxBody); err != nil {
				return nil, err
			}
		}
		if err := h.gate(r.Context(), rt.access); err != nil {
			return nil, err
		}
		if p != nil {
			if err := bind(p, &in); err != nil {
				return nil, err
			}
		}
		return call(r.Context(), r, &in)
	}
	return rt
}

// gate refuses a caller the route's access level excludes, with core's
// answer; the core checks again in every call.
func (h *handler) gate(ctx context.Context, a access) error {
	var err error
	switch a {
	case bearer:
		_, err = h.svc.Actor(ctx)
	case admin:
		_, err = h.svc.Admin(ctx)
	}
	return err
}

// recover turns a panic into a 500, logged once.
func (h *handler) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.fail(w, r, fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// ---- the one place errors become HTTP ----

// statusError is an answer the transport itself gives (413, 400, …).
type statusError struct {
	status int
	detail string
}

func (e *statusError) Error() string { return e.detail }

// statusOf maps a domain error code to its HTTP status (false: unknown code).
func statusOf(c core.Code) (int, bool) {
	switch c {
	case core.CodeInvalid:
		return http.StatusUnprocessableEntity, true
	case core.CodeUnauthenticated, core.CodePasswordResetRequired:
		return http.StatusUnauthorized, true
	case core.CodeForbidden:
		return http.StatusForbidden, true
	case core.CodeNotFound:
		return http.StatusNotFound, true
	case core.CodeConflict:
		return http.StatusConflict, true
	case core.CodeRateLimited:
		return http.StatusTooManyRequests, true
	case core.CodeUnavailable:
		return http.StatusServiceUnavailable, true
	}
	return 0, false
}

// statusClientClosed is nginx's code for a request its client abandoned; it
// keeps such requests out of the 5xx a dashboard alarms on.
const statusClientClosed = 499

// fail writes err as FastAPI would: {"detail": "..."} or, for invalid
// input, {"detail": [ ...Pydantic errors ]}. Errors that are not domain
// errors are logged here, once, and answered with a generic 500.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var v *validation
	var se *statusError
	switch {
	case errors.As(err, &v):
		writeJSON(w, http.StatusUnprocessableEntity, newValidationError(v.errs))
		return
	case errors.As(err, &se):
		writeJSON(w, se.status, httpError{Detail: se.detail})
		return
	}
	e, ok := core.AsError(err)
	status, known := 0, false
	if ok {
		status, known = statusOf(e.Code)
	}
	if !known && errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away (closed the connection or gave up): nothing
		// failed on our side, and nobody reads this answer.
		h.log.InfoContext(r.Context(), "rest: client closed the request", "method", r.Method, "path", r.URL.Path)
		writeJSON(w, statusClientClosed, httpError{Detail: "Client Closed Request"})
		return
	}
	if !known {
		h.log.ErrorContext(r.Context(), "rest: internal error", "method", r.Method, "path", r.URL.Path, "route", r.Pattern, "err", err)
		writeJSON(w, http.StatusInternalServerError, httpError{Detail: "Internal Server Error"})
		return
	}
	switch status {
	case http.StatusUnprocessableEntity:
		errs := make([]fieldError, len(e.Fields))
		for i, fe := range e.Fields {
			errs[i] = coreFieldError(fe)
		}
		if len(errs) == 0 {
			errs = []fieldError{{loc: []any{"body"}, typ: "value_error", msg: "Value error, " + detail(e)}}
		}
		writeJSON(w, status, newValidationError(errs))
		return
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int64((e.RetryAfter+999_999_999)/1_000_000_000)))
		}
	}
	if e.Err != nil && status == http.StatusServiceUnavailable {
		h.log.WarnContext(r.Context(), "rest: service unavailable", "method", r.Method, "route", r.Pattern, "err", e.Err)
	}
	writeJSON(w, status, httpError{Detail: detail(e)})
}

// detail is e's client-safe message.
func detail(e *core.Error) string { return e.ClientMessage() }

func newValidationError(errs []fieldError) httpValidationError {
	out := httpValidationError{Detail: make([]validationError, len(errs))}
	for i, e := range errs {
		out.Detail[i] = validationError{Type: e.typ, Loc: e.loc, Msg: e.msg, Input: e.input, Ctx: e.ctx}
	}
	return out
}
