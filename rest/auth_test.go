package rest_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

const passwordRule = "Value error, Password must be 6-15 characters long and contain at least one special character"

func TestRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.mustAdmin(t, "root")
	bob := e.mustUser(t, "bob")
	post := func(body string) req { return req{method: http.MethodPost, path: "/api/v1/auth/register", body: body} }
	withToken := func(r req, tok string) req { r.token = tok; return r }
	long := strings.Repeat("x", 51)

	e.run(t, []tc{
		{name: "OK", req: post(`{"username":" alice ","email":"Alice@Example.com","password":"s3cret!pw"}`),
			status: 200, want: userJSON(" alice ", "Alice@example.com", "user", "active")},
		{name: "OK/Inactive", req: post(`{"username":"ina","email":"ina@example.com","password":"s3cret!pw","activation_status":"inactive"}`),
			status: 200, want: userJSON("ina", "ina@example.com", "user", "inactive")},
		{name: "OK/NullOptionals", req: post(`{"username":"nul","email":"nul@example.com","password":"s3cret!pw","role":null,"activation_status":null,"extra":1}`),
			status: 200, want: userJSON("nul", "nul@example.com", "user", "active")},
		{name: "OK/AdminByAdmin", req: withToken(post(`{"username":"adm2","email":"adm2@example.com","password":"s3cret!pw","role":"admin"}`), adm.token),
			status: 200, want: userJSON("adm2", "adm2@example.com", "admin", "active")},
		{name: "OK/NoContentType", req: req{method: http.MethodPost, path: "/api/v1/auth/register", contentType: "-", body: `{"username":"nct","email":"nct@example.com","password":"s3cret!pw"}`},
			status: 200, want: userJSON("nct", "nct@example.com", "user", "active")},

		{name: "ErrForbidden/AdminByAnonymous", req: post(`{"username":"x","email":"x1@example.com","password":"s3cret!pw","role":"admin"}`),
			status: 403, want: detail("Only an admin can create an admin")},
		{name: "ErrForbidden/AdminByUser", req: withToken(post(`{"username":"x","email":"x2@example.com","password":"s3cret!pw","role":"admin"}`), bob.token),
			status: 403, want: detail("Only an admin can create an admin")},
		{name: "ErrConflict/EmailTaken", req: post(`{"username":"x","email":"` + strings.ToUpper(bob.Email) + `","password":"s3cret!pw"}`),
			status: 409, want: detail("Email already registered")},

		{name: "ErrInvalid/AllMissing", req: post(`{}`), status: 422,
			want: vErrs(missing("username", obj{}), missing("email", obj{}), missing("password", obj{}))},
		{name: "ErrInvalid/MissingEchoesBodyWithoutPassword", req: post(`{"username":"x","password":"s3cret!pw"}`), status: 422,
			want: vErrs(missing("email", obj{"username": "x", "password": ""}))},
		{name: "ErrInvalid/TypeAndValueErrorsTogether", req: post(`{"username":42,"email":"nope","password":"s3cret!pw","role":"root"}`), status: 422,
			want: vErrs(
				vErr("string_type", arr{"body", "username"}, "Input should be a valid string", 42, nil),
				vErr("value_error", arr{"body", "email"}, "value is not a valid email address: An email address must have an @-sign.", "nope", obj{"reason": "An email address must have an @-sign."}),
				vErr("enum", arr{"body", "role"}, "Input should be 'user' or 'admin'", "root", obj{"expected": "'user' or 'admin'"}),
			)},
		{name: "ErrInvalid/NullRequired", req: post(`{"username":null,"email":"n@example.com","password":"s3cret!pw"}`), status: 422,
			want: vErrs(vErr("string_type", arr{"body", "username"}, "Input should be a valid string", nil, nil))},
		{name: "ErrInvalid/WeakPassword", req: post(`{"username":"x","email":"w@example.com","password":"weakpass"}`), status: 422,
			want: vErrs(vErr("value_error", arr{"body", "password"}, passwordRule, "", obj{"error": obj{}}))},
		{name: "ErrInvalid/PasswordWrongType", req: post(`{"username":"x","email":"w@example.com","password":123456}`), status: 422,
			want: vErrs(vErr("string_type", arr{"body", "password"}, "Input should be a valid string", "", nil))},
		{name: "ErrInvalid/UsernameTooLong", req: post(`{"username":"` + long + `","email":"l@example.com","password":"s3cret!pw"}`), status: 422,
			want: vErrs(vErr("string_too_long", arr{"body", "username"}, "String should have at most 50 characters", long, obj{"max_length": 50}))},
		{name: "ErrInvalid/UsernameBlank", req: post(`{"username":"  ","email":"b@example.com","password":"s3cret!pw"}`), status: 422,
			want: vErrs(vErr("string_too_short", arr{"body", "username"}, "String should have at least 1 character", "  ", obj{"min_length": 1}))},
		{name: "ErrInvalid/UnknownActivationStatus", req: post(`{"username":"x","email":"u@example.com","password":"s3cret!pw","activation_status":1}`), status: 422,
			want: vErrs(vErr("enum", arr{"body", "activation_status"}, "Input should be 'active' or 'inactive'", 1, obj{"expected": "'active' or 'inactive'"}))},
		{name: "ErrInvalid/MalformedJSON", req: post(`{"username": "x",}`), status: 422,
			want: vErrs(vErr("json_invalid", arr{"body", 17}, "JSON decode error", obj{}, obj{"error": "Expecting property name enclosed in double quotes"}))},
		{name: "ErrInvalid/TruncatedJSON", req: post(`{"username": `), status: 422,
			want: vErrs(vErr("json_invalid", arr{"body", 13}, "JSON decode error", obj{}, obj{"error": "Expecting value"}))},
		{name: "ErrInvalid/NotAnObject", req: post(`["alice"]`), status: 422,
			want: vErrs(vErr("model_attributes_type", arr{"body"}, "Input should be a valid dictionary or object to extract fields from", arr{"alice"}, nil))},
		{name: "ErrInvalid/EmptyBody", req: req{method: http.MethodPost, path: "/api/v1/auth/register", contentType: "application/json"}, status: 422,
			want: vErrs(missing("", nil))},
		{name: "ErrInvalid/NullBody", req: post(`null`), status: 422,
			want: vErrs(missing("", nil))},
		{name: "ErrInvalid/NumberBody", req: post(` 42 `), status: 422,
			want: vErrs(vErr("model_attributes_type", arr{"body"}, "Input should be a valid dictionary or object to extract fields from", 42, nil))},
		{name: "ErrInvalid/NotJSONContentType", req: req{method: http.MethodPost, path: "/api/v1/auth/register", contentType: "text/plain", body: "hello"}, status: 422,
			want: vErrs(vErr("model_attributes_type", arr{"body"}, "Input should be a valid dictionary or object to extract fields from", nil, nil))},
		{name: "ErrInvalid/FormBodyNotEchoed", req: req{method: http.MethodPost, path: "/api/v1/auth/register", contentType: "application/x-www-form-urlencoded", body: "username=x&email=f@example.com&password=s3cret!pw"}, status: 422,
			want: vErrs(vErr("model_attributes_type", arr{"body"}, "Input should be a valid dictionary or object to extract fields from", nil, nil))},
		{name: "ErrInvalid/ExtraData", req: post(`{"username":"x"} {}`), status: 422,
			want: vErrs(vErr("json_invalid", arr{"body", 17}, "JSON decode error", obj{}, obj{"error": "Extra data"}))},
		{name: "ErrInvalid/OffsetInCharacters", req: post(`{"username":"Łódź" "email"}`), status: 422,
			want: vErrs(vErr("json_invalid", arr{"body", 19}, "JSON decode error", obj{}, obj{"error": "Expecting ',' delimiter"}))},
		{name: "ErrInvalid/LongInputEchoedShort", req: post(`{"username":"` + long + long + `","password":"s3cret!pw"}`), status: 422,
			want: vErrs(
				vErr("string_too_long", arr{"body", "username"}, "String should have at most 50 characters", (long + long)[:100]+"…", obj{"max_length": 50}),
				missing("email", obj{"username": (long + long)[:100] + "…", "password": ""}),
			)},
		{name: "ErrTooLarge", req: post(`{"username":"` + strings.Repeat("x", 5000) + `"}`), status: 413,
			want: detail("Request body too large")},
	})

	t.Run("ErrTooLarge/Streamed", func(t *testing.T) {
		before := e.snapshot(t)
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/v1/auth/register",
			io.MultiReader(strings.NewReader(`{"username":"`), strings.NewReader(strings.Repeat("x", 5000)), strings.NewReader(`"}`)))
		r.ContentLength = -1 // unknown, as with chunked encoding
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != 413 || w.Body.String() != `{"detail":"Request body too large"}` {
			t.Errorf("streamed oversized body: %d %s", w.Code, w.Body)
		}
		if e.snapshot(t) != before {
			t.Error("an oversized body changed the store")
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.mustAdmin(t, "root")
	bob := e.mustUser(t, "bob")
	gone := e.mustUser(t, "gone")
	inactive := core.ActivationInactive
	if _, err := e.svc.UpdateUser(core.WithRequest(context.Background(), adm.token, ""), gone.ID, core.UpdateUserInput{ActivationStatus: &inactive}); err != nil {
		t.Fatal(err)
	}
	jsonLogin := func(body string) req { return req{method: http.MethodPost, path: "/api/v1/auth/login", body: body} }
	form := func(v url.Values) req {
		return req{method: http.MethodPost, path: "/api/v1/auth/login", contentType: "application/x-www-form-urlencoded", body: v.Encode()}
	}
	token := tokensJSON()
	bad := detail("Incorrect email or password")

	e.run(t, []tc{
		{name: "OK/JSON", req: jsonLogin(`{"email":"` + strings.ToUpper(bob.Email) + `","password":"` + password + `"}`), status: 200, want: token},
		{name: "OK/OAuth2Form", req: form(url.Values{"username": {bob.Email}, "password": {password}, "grant_type": {"password"}}), status: 200, want: token},
		{name: "OK/MultipartForm", req: multipartForm(t, map[string]string{"username": bob.Email, "password": password}), status: 200, want: token},
		{name: "ErrInvalid/MultipartFormMissing", req: multipartForm(t, map[string]string{"username": bob.Email}), status: 422,
			want: vErrs(missing("password", nil))},
		{name: "ErrBadRequest/MultipartWithoutBoundary", req: req{method: http.MethodPost, path: "/api/v1/auth/login", contentType: "multipart/form-data", body: "x"}, status: 400,
			want: detail("There was an error parsing the body")},
		{name: "ErrUnauthenticated/WrongPassword", req: jsonLogin(`{"email":"` + bob.Email + `","password":"Wr0ng!pw"}`), status: 401, want: bad},
		{name: "ErrUnauthenticated/UnknownEmail", req: jsonLogin(`{"email":"nobody@example.com","password":"` + password + `"}`), status: 401, want: bad},
		{name: "ErrUnauthenticated/FormWrongPassword", req: form(url.Values{"username": {bob.Email}, "password": {"Wr0ng!pw"}}), status: 401, want: bad},
		{name: "ErrForbidden/Inactive", req: jsonLogin(`{"email":"` + gone.Email + `","password":"` + password + `"}`), status: 403, want: detail("Inactive user")},
		{name: "ErrInvalid/Missing", req: jsonLogin(`{"email":"` + bob.Email + `"}`), status: 422,
			want: vErrs(missing("password", obj{"email": bob.Email}))},
		{name: "ErrInvalid/WrongType", req: jsonLogin(`{"email":["a"],"password":"x"}`), status: 422,
			want: vErrs(vErr("string_type", arr{"body", "email"}, "Input should be a valid string", arr{"a"}, nil))},
		{name: "ErrInvalid/FormMissing", req: form(url.Values{"password": {password}}), status: 422,
			want: vErrs(missing("username", nil))},
		{name: "ErrInvalid/FormEmptyCountsAsMissing", req: form(url.Values{"username": {bob.Email}, "password": {""}}), status: 422,
			want: vErrs(missing("password", nil))},
		{name: "ErrInvalid/FormGrantType", req: form(url.Values{"username": {bob.Email}, "password": {password}, "grant_type": {"client_credentials"}}), status: 422,
			want: vErrs(vErr("string_pattern_mismatch", arr{"body", "grant_type"}, "String should match pattern '^password$'", "client_credentials", obj{"pattern": "^password$"}))},
		{name: "ErrInvalid/MalformedJSON", req: jsonLogin(`{"email" "x"}`), status: 422,
			want: vErrs(vErr("json_invalid", arr{"body", 9}, "JSON decode error", obj{}, obj{"error": "Expecting ':' delimiter"}))},
	})

	t.Run("OK/TokenWorks", func(t *testing.T) {
		r := e.do(t, form(url.Values{"username": {bob.Email}, "password": {password}}))
		tok, _ := r.body.(map[string]any)["access_token"].(string)
		me := e.do(t, req{method: http.MethodGet, path: "/api/v1/auth/user", token: tok})
		if me.status != 200 {
			t.Fatalf("token from the form login: %d %s", me.status, me.raw)
		}
	})
}

// refuseAll is a rate counter that refuses every event for wait.
type refuseAll struct{ wait time.Duration }

func (r refuseAll) Allow(context.Context, string, core.Rate) time.Duration { return r.wait }

func TestLoginRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimiter(core.NewLimiter(refuseAll{wait: 1500 * time.Millisecond}, core.DefaultLimits())))
	e.run(t, []tc{
		{name: "ErrRateLimited/Login", req: req{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"email":"a@example.com","password":"x"}`},
			status: 429, want: detail("Too many login attempts; try again later"), header: map[string]string{"Retry-After": "2"}},
		{name: "ErrRateLimited/Register", req: req{method: http.MethodPost, path: "/api/v1/auth/register", body: `{"username":"u","email":"u@example.com","password":"s3cret!pw"}`},
			status: 429, want: detail("Too many registrations; try again later"), header: map[string]string{"Retry-After": "2"}},
	})
}

func TestCurrentUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.mustAdmin(t, "root")
	bob := e.mustUser(t, "bob")
	empty := e.mustUser(t, "empty")
	gone := e.mustUser(t, "gone")
	e.mustTask(t, bob, "a", core.StatusPending)
	e.mustTask(t, bob, "b", core.StatusPending)
	e.mustTask(t, bob, "c", core.StatusOngoing)
	e.mustTask(t, bob, "d", core.StatusComplete)
	inactive := core.ActivationInactive
	if _, err := e.svc.UpdateUser(core.WithRequest(context.Background(), adm.token, ""), gone.ID, core.UpdateUserInput{ActivationStatus: &inactive}); err != nil {
		t.Fatal(err)
	}
	get := func(tok string) req { return req{method: http.MethodGet, path: "/api/v1/auth/user", token: tok} }
	expired, err := core.NewTokens([]byte(testSecret), time.Hour, func() time.Time { return time.Now().Add(-2 * time.Hour) }).Issue(bob.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := core.NewTokens([]byte("another-secret-of-32-bytes......"), time.Hour, nil).Issue(bob.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	const algNone = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJWQUgxIiwiZXhwIjo5OTk5OTk5OTk5fQ."
	badCreds := detail("Could not validate credentials")

	e.run(t, []tc{
		{name: "OK", req: get(bob.token), status: 200, want: obj{
			"task_data": obj{"pending": 2, "ongoing": 1, "complete": 1, "total": 4},
			"user_data": userJSONOf(bob.User),
		}},
		{name: "OK/NoTasks", req: get(empty.token), status: 200, want: obj{
			"task_data": obj{"pending": 0, "ongoing": 0, "complete": 0, "total": 0},
			"user_data": userJSONOf(empty.User),
		}},
		{name: "ErrUnauthenticated/NoToken", req: get(""), status: 401, want: detail("Not authenticated")},
		{name: "ErrUnauthenticated/Garbage", req: get("not-a-jwt"), status: 401, want: badCreds},
		{name: "ErrUnauthenticated/Expired", req: get(expired), status: 401, want: badCreds},
		{name: "ErrUnauthenticated/Forged", req: get(forged), status: 401, want: badCreds},
		{name: "ErrUnauthenticated/AlgNone", req: get(algNone), status: 401, want: badCreds},
		{name: "ErrUnauthenticated/Deactivated", req: get(gone.token), status: 401, want: detail("Inactive user")},
	})

	t.Run("ErrUnauthenticated/BasicScheme", func(t *testing.T) {
		r := httpRequest(t, e, http.MethodGet, "/api/v1/auth/user", "Basic Ym9iOnB3")
		if r.Code != 401 || r.Header().Get("WWW-Authenticate") != "Bearer" || r.Body.String() != `{"detail":"Not authenticated"}` {
			t.Errorf("Basic credentials: %d %v %s", r.Code, r.Header(), r.Body)
		}
	})
}

func multipartForm(tb testing.TB, fields map[string]string) req {
	tb.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	return req{method: http.MethodPost, path: "/api/v1/auth/login", contentType: mw.FormDataContentType(), body: b.String()}
}
