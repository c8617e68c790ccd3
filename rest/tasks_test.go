package rest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/taskapi/taskapi/core"
)

func TestCreateTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.mustUser(t, "bob")
	post := func(tok, body string) req {
		return req{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: tok, body: body}
	}
	long := strings.Repeat("t", 201)

	e.run(t, []tc{
		{name: "OK", req: post(bob.token, `{"title":"  Write <report>  ","description":"Q3 & Q4"}`), status: 200,
			want: taskJSON(bob.ID, "  Write <report>  ", "Q3 & Q4", "pending")},
		{name: "OK/NoDescription", req: post(bob.token, `{"title":"Call Ann"}`), status: 200,
			want: taskJSON(bob.ID, "Call Ann", "", "pending")},
		{name: "ErrUnauthenticated/NoToken", req: post("", `{"title":"x"}`), status: 401, want: detail("Not authenticated")},
		{name: "ErrUnauthenticated/BeforeFieldErrors", req: post("", `{}`), status: 401, want: detail("Not authenticated")},
		{name: "ErrInvalid/MalformedJSONBeforeAuth", req: post("", `{"title":`), status: 422,
			want: vErrs(vErr("json_invalid", arr{"body", 9}, "JSON decode error", obj{}, obj{"error": "Expecting value"}))},
		// FastAPI decodes the JSON before its security dependencies run, but
		// checks the body's shape after them.
		{name: "ErrUnauthenticated/BeforeEmptyBody", req: req{method: http.MethodPost, path: "/api/v1/tasks/create-task", contentType: "application/json"}, status: 401, want: detail("Not authenticated")},
		{name: "ErrUnauthenticated/BeforeNullBody", req: post("", `null`), status: 401, want: detail("Not authenticated")},
		{name: "ErrUnauthenticated/BeforeNotAnObject", req: post("", `["x"]`), status: 401, want: detail("Not authenticated")},
		{name: "ErrUnauthenticated/BeforeNotJSON", req: req{method: http.MethodPost, path: "/api/v1/tasks/create-task", contentType: "text/plain", body: "title=x"}, status: 401, want: detail("Not authenticated")},
		{name: "ErrInvalid/NullBody", req: post(bob.token, `null`), status: 422, want: vErrs(missing("", nil))},
		{name: "ErrInvalid/NotAnObject", req: post(bob.token, `["x"]`), status: 422,
			want: vErrs(vErr("model_attributes_type", arr{"body"}, "Input should be a valid dictionary or object to extract fields from", arr{"x"}, nil))},
		{name: "ErrBadBody/NotUTF8", req: post(bob.token, "{\"title\":\"caf\xe9\"}"), status: 400, want: detail("There was an error parsing the body")},
		{name: "ErrBadBody/NotUTF8BeforeAuth", req: post("", "{\"title\":\"caf\xe9\"}"), status: 400, want: detail("There was an error parsing the body")},
		// Python reads a UTF-8 BOM, and a Content-Type by what precedes its
		// first ';' (email.message), so these are JSON to FastAPI.
		{name: "OK/UTF8BOM", req: post(bob.token, "\ufeff{\"title\":\"BOM\"}"), status: 200,
			want: taskJSON(bob.ID, "BOM", "", "pending")},
		{name: "ErrInvalid/UTF8BOMThenMalformed", req: post(bob.token, "\ufeff{\"title\":"), status: 422,
			want: vErrs(vErr("json_invalid", arr{"body", 9}, "JSON decode error", obj{}, obj{"error": "Expecting value"}))},
		{name: "OK/ContentTypeMalformedParameter", req: req{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: bob.token, contentType: "application/json; charset", body: `{"title":"param"}`}, status: 200,
			want: taskJSON(bob.ID, "param", "", "pending")},
		{name: "OK/ContentTypeCaseAndSpaces", req: req{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: bob.token, contentType: " Application/JSON ;charset=utf-8; x", body: `{"title":"case"}`}, status: 200,
			want: taskJSON(bob.ID, "case", "", "pending")},
		{name: "OK/ContentTypeSuffixJSON", req: req{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: bob.token, contentType: "application/vnd.api+json", body: `{"title":"suffix"}`}, status: 200,
			want: taskJSON(bob.ID, "suffix", "", "pending")},
		{name: "ErrInvalid/ContentTypeTwoSlashes", req: req{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: bob.token, contentType: "application/json/x", body: `{"title":"x"}`}, status: 422,
			want: vErrs(vErr("model_attributes_type", arr{"body"}, "Input should be a valid dictionary or object to extract fields from", nil, nil))},
		{name: "ErrInvalid/MissingTitle", req: post(bob.token, `{"description":"d"}`), status: 422,
			want: vErrs(missing("title", obj{"description": "d"}))},
		{name: "ErrInvalid/TitleWrongType", req: post(bob.token, `{"title":true,"description":7}`), status: 422,
			want: vErrs(
				vErr("string_type", arr{"body", "title"}, "Input should be a valid string", true, nil),
				vErr("string_type", arr{"body", "description"}, "Input should be a valid string", 7, nil),
			)},
		{name: "ErrInvalid/TitleBlank", req: post(bob.token, `{"title":"   "}`), status: 422,
			want: vErrs(vErr("string_too_short", arr{"body", "title"}, "String should have at least 1 character", "   ", obj{"min_length": 1}))},
		{name: "ErrInvalid/TitleTooLong", req: post(bob.token, `{"title":"`+long+`"}`), status: 422,
			want: vErrs(vErr("string_too_long", arr{"body", "title"}, "String should have at most 200 characters", long[:100]+"…", obj{"max_length": 200}))},
	})
}

// TestEchoedNumbersArePythons checks the bytes: decoded, 1E5 and
// 100000.0 are the same number.
func TestEchoedNumbersArePythons(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.mustUser(t, "bob")
	r := e.do(t, req{method: http.MethodPost, path: "/api/v1/tasks/create-task", token: bob.token, body: `{"title":1E5,"description":7}`})
	for _, want := range []string{`"input":100000.0`, `"input":7`} {
		if r.status != 422 || !strings.Contains(r.raw, want) {
			t.Errorf("%d %s: no %s", r.status, r.raw, want)
		}
	}
}

func TestFetchTasks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.mustUser(t, "bob")
	ann := e.mustUser(t, "ann")
	empty := e.mustUser(t, "empty")
	t1 := e.mustTask(t, bob, "first", core.StatusPending)
	e.mustTask(t, ann, "not bob's", core.StatusPending)
	t2 := e.mustTask(t, bob, "second", core.StatusComplete)
	get := func(tok string) req { return req{method: http.MethodGet, path: "/api/v1/tasks/fetch-task", token: tok} }
	exact := func(tk core.Task) obj {
		o := taskJSON(tk.UserID, string(tk.Title), string(tk.Description), string(tk.Status))
		o["task_id"] = tk.ID
		return o
	}

	e.run(t, []tc{
		{name: "OK/OnlyTheCallersOldestFirst", req: get(bob.token), status: 200, want: arr{exact(t1), exact(t2)}},
		{name: "OK/EmptyIsArray", req: get(empty.token), status: 200, want: arr{}},
		{name: "ErrUnauthenticated", req: get(""), status: 401, want: detail("Not authenticated")},
	})
}

func TestUpdateTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.mustUser(t, "bob")
	ann := e.mustUser(t, "ann")
	tk := e.mustTask(t, bob, "mine", core.StatusPending)
	annsTask := e.mustTask(t, ann, "ann's", core.StatusPending)
	path := func(id string) string { return "/api/v1/tasks/update-task/" + id }
	updated := func(status string) obj {
		task := taskJSON(bob.ID, "mine", "about mine", status)
		task["task_id"] = tk.ID
		return obj{"message": "Task updated successfully", "task": task}
	}
	enumErr := func(input any) obj {
		return vErrs(vErr("enum", arr{"body", "status"}, "Input should be 'pending', 'ongoing' or 'complete'", input, obj{"expected": "'pending', 'ongoing' or 'complete'"}))
	}
	notFound := detail("Task not found")

	for _, method := range []string{http.MethodPut, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			put := func(tok, id, body string) req { return req{method: method, path: path(id), token: tok, body: body} }
			e.run(t, []tc{
				{name: "OK", req: put(bob.token, tk.ID, `{"status":"ongoing"}`), status: 200, want: updated("ongoing")},
				{name: "OK/GraphQLSpelling", req: put(bob.token, tk.ID, `{"status":"COMPLETE"}`), status: 200, want: updated("complete")},
				{name: "OK/Back", req: put(bob.token, tk.ID, `{"status":"pending"}`), status: 200, want: updated("pending")},
				{name: "ErrNotFound/SomeoneElses", req: put(bob.token, annsTask.ID, `{"status":"complete"}`), status: 404, want: notFound},
				{name: "ErrNotFound/Absent", req: put(bob.token, uuid.NewString(), `{"status":"complete"}`), status: 404, want: notFound},
				{name: "ErrNotFound/NotAnID", req: put(bob.token, "nope", `{"status":"complete"}`), status: 404, want: notFound},
				{name: "ErrUnauthenticated", req: put("", tk.ID, `{"status":"complete"}`), status: 401, want: detail("Not authenticated")},
				{name: "ErrInvalid/UnknownStatus", req: put(bob.token, tk.ID, `{"status":"done"}`), status: 422, want: enumErr("done")},
				{name: "ErrInvalid/StatusWrongType", req: put(bob.token, tk.ID, `{"status":2}`), status: 422, want: enumErr(2)},
				{name: "ErrInvalid/Missing", req: put(bob.token, tk.ID, `{"title":"x"}`), status: 422, want: vErrs(missing("status", obj{"title": "x"}))},
				{name: "ErrInvalid/Null", req: put(bob.token, tk.ID, `{"status":null}`), status: 422, want: enumErr(nil)},
			})
		})
	}

	t.Run("OK/StatsFollow", func(t *testing.T) {
		r := e.do(t, req{method: http.MethodGet, path: "/api/v1/auth/user", token: bob.token})
		wantJSON(t, r.body.(map[string]any)["task_data"], obj{"pending": 1, "ongoing": 0, "complete": 0, "total": 1})
	})
}

func TestDeleteTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.mustUser(t, "bob")
	ann := e.mustUser(t, "ann")
	tk := e.mustTask(t, bob, "mine", core.StatusOngoing)
	keep := e.mustTask(t, bob, "keep", core.StatusPending)
	annsTask := e.mustTask(t, ann, "ann's", core.StatusPending)
	del := func(tok, id string) req {
		return req{method: http.MethodDelete, path: "/api/v1/tasks/delete-task/" + id, token: tok}
	}
	notFound := detail("Task not found")

	e.run(t, []tc{
		{name: "ErrNotFound/SomeoneElses", req: del(bob.token, annsTask.ID), status: 404, want: notFound},
		{name: "ErrUnauthenticated", req: del("", tk.ID), status: 401, want: detail("Not authenticated")},
		{name: "OK", req: del(bob.token, tk.ID), status: 200, want: obj{"message": "Task deleted successfully"}},
		{name: "ErrNotFound/AlreadyDeleted", req: del(bob.token, tk.ID), status: 404, want: notFound},
		{name: "ErrNotFound/NotAnID", req: del(bob.token, "not-a-uuid"), status: 404, want: notFound},
	})

	ctx := core.WithRequest(context.Background(), bob.token, "")
	left, err := e.svc.AllTasks(ctx)
	if err != nil || len(left) != 1 || left[0].ID != keep.ID {
		t.Errorf("after delete, bob has %v (%v), want only %s", left, err, keep.ID)
	}
	if st, err := e.svc.Stats(ctx, bob.ID); err != nil || st != (core.TaskStats{}.Add(core.StatusPending, 1)) {
		t.Errorf("after delete, stats %+v (%v), want 1 pending", st, err)
	}
	annCtx := core.WithRequest(context.Background(), ann.token, "")
	if _, err := e.svc.GetTask(annCtx, annsTask.ID); err != nil {
		t.Errorf("ann's task is gone: %v", err)
	}
}
