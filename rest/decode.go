package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/taskapi/taskapi/core"
)

// This file reads request bodies the way FastAPI does before and while
// Pydantic validates them, and reports what is wrong in Pydantic v2's
// vocabulary. It checks JSON types and the closed enums only; every rule on
// values (lengths, email, password) is core's.

// binder is a request body type: bind reads the fields (recording type
// errors in f), check runs core's validation of what bind accepted (so one
// 422 lists every problem, as Pydantic does).
type binder interface {
	bind(f *fields)
	check() error
}

// payload is a request body after the transport-level checks.
type payload struct {
	obj  map[string]json.RawMessage // a JSON object body
	echo map[string]any             // obj echoed, for "input" of missing fields (see echoObject)
	form url.Values                 // an OAuth2 form body (login only)
	// invalid is the 422 for a body that is missing, null or not an
	// object, which bind returns in place of the fields' errors.
	invalid error
}

var errBodyTooLarge = &statusError{status: http.StatusRequestEntityTooLarge, detail: "Request body too large"}

// readBody reads at most max bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errBodyTooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errBodyTooLarge
	case err != nil:
		return nil, errBadBody
	}
	return data, nil
}

// mediaType classifies a Content-Type as FastAPI reads it (with Python's
// email.message): the part before any ';', trimmed and lowercased, so that
// a malformed parameter does not matter; none, application/json or
// application/*+json means JSON; anything else, or no single '/', is raw
// bytes (which no body model accepts). Parameters are parsed only for a
// multipart form's boundary.
func mediaType(contentType string) (kind string, params map[string]string) {
	if contentType == "" {
		return "json", nil
	}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	top, sub, ok := strings.Cut(mt, "/")
	switch {
	case !ok || strings.Contains(sub, "/"):
		return "other", nil
	case top == "application" && (sub == "json" || strings.HasSuffix(sub, "+json")):
		return "json", nil
	case mt == "application/x-www-form-urlencoded":
		return "urlencoded", nil
	case mt == "multipart/form-data":
		_, params, _ = mime.ParseMediaType(contentType) // no boundary: parseForm refuses it
		return "multipart", params
	}
	return "other", nil
}

// utf8BOM starts a body that Python's json.loads reads as UTF-8 with a BOM.
var utf8BOM = []byte("\xef\xbb\xbf")

// parseBody turns a body into a payload, refusing what FastAPI refuses
// before any dependency runs: JSON that does not parse (422 json_invalid),
// bytes that are not UTF-8 or a form it cannot read (400). A body that is
// missing, null or not an object is refused only when its fields are bound
// (payload.invalid), after the access check, as FastAPI validates the body
// after its security dependencies: a caller without a token gets 401, not
// a 422 about the body.
func parseBody(data []byte, contentType string, formOK bool, max int64) (*payload, error) {
	kind, params := mediaType(contentType)
	if formOK && (kind == "urlencoded" || kind == "multipart") {
		form, err := parseForm(data, kind, params, max)
		if err != nil {
			return nil, errBadBody
		}
		return &payload{form: form}, nil
	}
	if len(data) == 0 {
		return &payload{invalid: errBodyMissing}, nil
	}
	if kind != "json" {
		// Pydantic would echo the raw body; it may be a form carrying a
		// password, so it is not echoed.
		return &payload{invalid: invalid(fieldError{loc: []any{"body"}, typ: "model_attributes_type", msg: msgNotObject, input: nil})}, nil
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		return nil, errBadBody
	}
	// One pass: json.Unmarshal checks the whole body's syntax before it
	// decodes, so a syntax error is reported as such whatever the target,
	// and a valid body that is not an object is the only type error a map
	// of raw members can meet. A JSON null decodes without one, to a nil
	// map: FastAPI takes it for no body at all.
	var obj map[string]json.RawMessage
	err := json.Unmarshal(data, &obj)
	var notObject *json.UnmarshalTypeError
	switch {
	case err == nil && obj == nil:
		return &payload{invalid: errBodyMissing}, nil
	case errors.As(err, &notObject):
		return &payload{invalid: invalid(fieldError{loc: []any{"body"}, typ: "model_attributes_type", msg: msgNotObject, input: echoRaw("", data)})}, nil
	case err != nil:
		return nil, jsonInvalid(data, err)
	}
	return &payload{obj: obj}, nil
}

// echoObject is the body as the "input" of a missing field's error: every
// member echoed as echoRaw would (built once, and only for such an error).
func (p *payload) echoObject() map[string]any {
	if p.echo == nil {
		p.echo = make(map[string]any, len(p.obj))
		for k, raw := range p.obj {
			p.echo[k] = echoRaw(k, raw)
		}
	}
	return p.echo
}

// errBodyMissing is FastAPI's answer to an empty body, or a JSON null, where
// a body model is required.
var errBodyMissing = invalid(fieldError{loc: []any{"body"}, typ: "missing", msg: "Field required"})

const msgNotObject = "Input should be a valid dictionary or object to extract fields from"

// errBadBody is Starlette's answer to a body it cannot read or parse as a form.
var errBadBody = &statusError{status: http.StatusBadRequest, detail: "There was an error parsing the body"}

func parseForm(data []byte, kind string, params map[string]string, max int64) (url.Values, error) {
	if kind == "urlencoded" {
		return url.ParseQuery(string(data))
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, errors.New("multipart without boundary")
	}
	f, err := multipart.NewReader(bytes.NewReader(data), boundary).ReadForm(max)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.RemoveAll() }()
	return url.Values(f.Value), nil
}

// jsonInvalid is FastAPI's answer to a body that is not JSON: where Python's
// json module stops reading it, in characters, and its message. For the few
// bodies Python would read and Go does not (NaN, Infinity, or nesting too
// deep to follow), Go's offset with "Expecting value".
func jsonInvalid(data []byte, err error) error {
	pos, reason, ok := pyJSONError(data)
	if !ok {
		pos, reason = len(data), "Expecting value"
		var syn *json.SyntaxError
		if errors.As(err, &syn) && syn.Offset > 0 {
			pos = min(int(syn.Offset)-1, len(data))
		}
		pos = utf8.RuneCount(data[:pos])
	}
	return invalid(fieldError{loc: []any{"body", pos}, typ: "json_invalid", msg: "JSON decode error", input: map[string]any{}, ctx: map[string]any{"error": reason}})
}

// fieldError is one item of a 422 body.
type fieldError struct {
	loc   []any
	typ   string
	msg   string
	input any
	ctx   map[string]any
}

// validation is a 422 the transport found (as opposed to core's *core.Error
// with Fields); handler.fail writes both the same way.
type validation struct{ errs []fieldError }

func (v *validation) Error() string { return "invalid request body" }

func invalid(errs ...fieldError) error { return &validation{errs: errs} }

// fields reads the members of a JSON object body (or of a form) one by one,
// as Pydantic validates a model's fields: in order, collecting every error.
type fields struct {
	p       *payload
	errs    []fieldError
	order   []string        // fields in the order bind reads them
	errored map[string]bool // fields with an error of their own
}

func (f *fields) fail(name, typ, msg string, input any, ctx map[string]any) {
	f.errs = append(f.errs, fieldError{loc: []any{"body", name}, typ: typ, msg: msg, input: input, ctx: ctx})
	f.errored[name] = true
}

// raw returns the field's JSON, or nil when it is absent.
func (f *fields) raw(name string) json.RawMessage {
	f.order = append(f.order, name)
	return f.p.obj[name]
}

func (f *fields) missing(name string) {
	f.fail(name, "missing", "Field required", f.p.echoObject(), nil)
}

// str reads a required string.
func (f *fields) str(name string, dst *string) {
	raw := f.raw(name)
	if raw == nil {
		f.missing(name)
		return
	}
	f.decodeStr(name, raw, dst)
}

// optStr reads an optional string; absent or null leaves dst as it is.
func (f *fields) optStr(name string, dst *string) {
	raw := f.raw(name)
	if raw == nil || isNull(raw) {
		return
	}
	f.decodeStr(name, raw, dst)
}

// ptrStr reads an optional string: nil when absent or null.
func (f *fields) ptrStr(name string) *string {
	raw := f.raw(name)
	if raw == nil || isNull(raw) {
		return nil
	}
	var s string
	if !f.decodeStr(name, raw, &s) {
		return nil
	}
	return &s
}

func (f *fields) decodeStr(name string, raw json.RawMessage, dst *string) bool {
	if err := json.Unmarshal(raw, dst); err != nil || raw[0] != '"' {
		f.fail(name, "string_type", "Input should be a valid string", echoRaw(name, raw), nil)
		return false
	}
	return true
}

// enum reads a required member of a closed set with core's parser.
func enum[T ~string](f *fields, name string, parse func(string) (T, error), allowed []T) *T {
	raw := f.raw(name)
	if raw == nil {
		f.missing(name)
		return nil
	}
	return decodeEnum(f, name, raw, parse, allowed)
}

// optEnum reads an optional member of a closed set: nil when absent or null.
func optEnum[T ~string](f *fields, name string, parse func(string) (T, error), allowed []T) *T {
	raw := f.raw(name)
	if raw == nil || isNull(raw) {
		return nil
	}
	return decodeEnum(f, name, raw, parse, allowed)
}

func decodeEnum[T ~string](f *fields, name string, raw json.RawMessage, parse func(string) (T, error), allowed []T) *T {
	var s string
	if json.Unmarshal(raw, &s) == nil && raw[0] == '"' {
		if v, err := parse(s); err == nil {
			return &v
		}
	}
	expected := quoteList(allowed)
	f.fail(name, "enum", "Input should be "+expected, echoRaw(name, raw), map[string]any{"expected": expected})
	return nil
}

// quoteList spells a closed set as Pydantic does: 'a', 'b' or 'c'.
func quoteList[T ~string](vals []T) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "'" + string(v) + "'"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// bindBody fills in from p, or returns a 422 listing every problem: the
// type errors bind found, then (merged in field order) what core's
// validation says about the fields that were well typed.
func bindBody(p *payload, in binder) error {
	f := &fields{p: p, errored: map[string]bool{}}
	in.bind(f)
	if len(f.errs) == 0 {
		return nil
	}
	if e, ok := core.AsError(in.check()); ok {
		for _, fe := range e.Fields {
			if name := snakeCase(fe.Field); !f.errored[name] && slices.Contains(f.order, name) {
				f.errs = append(f.errs, coreFieldError(fe))
			}
		}
	}
	rank := func(e fieldError) int {
		if len(e.loc) == 2 {
			if name, ok := e.loc[1].(string); ok {
				return slices.Index(f.order, name)
			}
		}
		return -1
	}
	slices.SortStableFunc(f.errs, func(a, b fieldError) int { return rank(a) - rank(b) })
	return &validation{errs: f.errs}
}

// formBinder is a body type that also reads a form (login).
type formBinder interface {
	bindForm(form url.Values) error
}

// bind fills in (a *binder or *formBinder) from p.
func bind(p *payload, in any) error {
	if p.invalid != nil {
		return p.invalid
	}
	if p.form != nil {
		if fb, ok := in.(formBinder); ok {
			return fb.bindForm(p.form)
		}
		return fmt.Errorf("rest: %T reads no form", in)
	}
	if b, ok := in.(binder); ok {
		return bindBody(p, b)
	}
	return fmt.Errorf("rest: %T reads no body", in)
}

// bindLoginForm reads the OAuth2 password form as FastAPI's
// OAuth2PasswordRequestForm does: an empty value counts as missing.
func bindLoginForm(form url.Values) (email, password string, err error) {
	var errs []fieldError
	if gt := form.Get("grant_type"); gt != "" && gt != "password" {
		errs = append(errs, fieldError{loc: []any{"body", "grant_type"}, typ: "string_pattern_mismatch", msg: "String should match pattern '^password$'", input: truncate(gt), ctx: map[string]any{"pattern": "^password$"}})
	}
	for _, name := range []string{"username", "password"} {
		if form.Get(name) == "" {
			errs = append(errs, fieldError{loc: []any{"body", name}, typ: "missing", msg: "Field required", input: nil})
		}
	}
	if len(errs) > 0 {
		return "", "", &validation{errs: errs}
	}
	return form.Get("username"), form.Get("password"), nil
}

// coreFieldError renders one of core's field errors as Pydantic v2 would
// report the same problem, placed in the body under the legacy field name.
func coreFieldError(fe core.FieldError) fieldError {
	loc := []any{"body"}
	name := snakeCase(fe.Field)
	if fe.Field != "" && fe.Field != "input" {
		loc = append(loc, name)
	}
	out := fieldError{loc: loc, input: fe.Input}
	if fe.Field == "password" {
		out.input = redacted
	}
	switch fe.Kind {
	case core.KindTooShort:
		out.typ, out.ctx = "string_too_short", map[string]any{"min_length": fe.Min}
		out.msg = fmt.Sprintf("String should have at least %d %s", fe.Min, plural(fe.Min, "character"))
	case core.KindTooLong:
		out.typ, out.ctx = "string_too_long", map[string]any{"max_length": fe.Max}
		out.msg = fmt.Sprintf("String should have at most %d %s", fe.Max, plural(fe.Max, "character"))
	case core.KindEnum:
		expected := quoteList(fe.Allowed)
		out.typ, out.msg, out.ctx = "enum", "Input should be "+expected, map[string]any{"expected": expected}
	case core.KindRange:
		out.typ, out.ctx = "greater_than_equal", map[string]any{"ge": fe.Min}
		out.msg = fmt.Sprintf("Input should be greater than or equal to %d", fe.Min)
	case core.KindFormat:
		// Pydantic's own value error (EmailStr's) carries ctx.reason.
		out.typ, out.ctx = "value_error", map[string]any{"reason": fe.Reason}
		out.msg = "value is not a valid " + fe.Format + ": " + fe.Reason
	default: // a validator's ValueError: the legacy models' custom checks
		out.typ, out.ctx = "value_error", valueErrorCtx
		reason := fe.Reason
		if fe.Kind == core.KindCharacters && name != "" {
			reason = strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "_", " ") + " " + reason
		}
		out.msg = "Value error, " + reason
	}
	return out
}

// snakeCase turns core's field names into the legacy payloads':
// activationStatus → activation_status.
func snakeCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// valueErrorCtx is the ctx of a validator's ValueError as FastAPI sends it:
// Pydantic puts the exception itself in ctx.error, which FastAPI's
// jsonable_encoder turns into {} (the message is in msg). Pydantic's own
// value errors (an email's) carry a ctx.reason string instead, kept as is.
// Shared and only ever encoded.
var valueErrorCtx = map[string]any{"error": map[string]any{}}

// ---- echoing input safely ----

// redacted replaces any password a 422 would echo: Pydantic shows the input,
// taskapi never shows a password (core echoes "" for one as well).
const redacted = ""

const maxEcho = 100

func echoRaw(name string, raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return echoValue(name, v)
}

// echoValue returns v for the "input" of an error: strings cut to 100
// bytes, and the value of any "password" member replaced.
func echoValue(name string, v any) any {
	if name == "password" {
		return redacted
	}
	switch v := v.(type) {
	case string:
		return truncate(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = echoValue(k, e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = echoValue("", e)
		}
		return out
	case json.Number:
		return pyNumber(v)
	}
	return v
}

// pyNumber writes a JSON number as Python echoes what json.loads made of
// it: an integer as written, any other number as the float's repr (1E5 is
// 100000.0, 0.00001 is 1e-05). One too large for a float stays as written
// (Python would make it inf, which FastAPI cannot even encode).
func pyNumber(n json.Number) json.Number {
	if !strings.ContainsAny(string(n), ".eE") {
		if n == "-0" { // an int to Python: 0 has no sign
			return "0"
		}
		return n // JSON integers are canonical otherwise (no leading zeros)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return n
	}
	// float_repr_style "short": the shortest digits that read back, in
	// exponent form when the decimal point is 4 or more places left of the
	// first digit or 16 or more places right of it.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if decpt := exp + 1; decpt <= -4 || decpt > 16 {
		return json.Number(e)
	}
	fixed := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(fixed, ".") {
		fixed += ".0"
	}
	return json.Number(fixed)
}

func truncate(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	i := maxEcho
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
