package resolvers_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// What a front end's cache needs, through the executable schema: due dates
// set, kept and cleared; mutations that return the owner's fresh stats;
// removeTask's payload; node(id) for refetching; both page directions.

func TestDueDates(t *testing.T) {
	e := newEnv(t)
	a := e.mustRegister(t, "due")
	type task struct {
		ID      string
		Title   string
		DueDate *string
	}
	var created struct{ CreateTask task }
	e.post(t, a.Token, `mutation { createTask(input: {title: "report", dueDate: "2027-03-01T18:30:00.1234+01:00"}) { id title dueDate } }`, nil).decode(t, &created)
	if d := created.CreateTask.DueDate; d == nil || *d != "2027-03-01T17:30:00.123Z" {
		t.Fatalf("created with dueDate %v, want it in UTC at millisecond precision", d)
	}
	id := created.CreateTask.ID

	steps := []struct {
		name, input string
		want        *string
	}{
		{"AbsentLeavesIt", `{title: "report v2"}`, created.CreateTask.DueDate},
		{"ValueSetsIt", `{dueDate: "2027-04-01T00:00:00Z"}`, ptr("2027-04-01T00:00:00.000Z")},
		{"NullClearsIt", `{dueDate: null}`, nil},
		{"AbsentKeepsItCleared", `{status: ONGOING}`, nil},
		{"OnlyADueDateIsAChange", `{dueDate: "2030-01-01T00:00:00Z"}`, ptr("2030-01-01T00:00:00.000Z")},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			var upd struct{ UpdateTask task }
			e.post(t, a.Token, `mutation($id: ID!) { updateTask(id: $id, input: `+s.input+`) { id dueDate } }`, vars{"id": id}).decode(t, &upd)
			var read struct{ Task task }
			e.post(t, a.Token, `query($id: ID!) { task(id: $id) { id dueDate } }`, vars{"id": id}).decode(t, &read)
			for what, got := range map[string]*string{"updateTask": upd.UpdateTask.DueDate, "task": read.Task.DueDate} {
				if (got == nil) != (s.want == nil) || (got != nil && *got != *s.want) {
					t.Fatalf("%s: dueDate %v, want %v", what, deref(got), deref(s.want))
				}
			}
		})
	}
	t.Run("NullClearsItAsAVariable", func(t *testing.T) {
		var upd struct{ UpdateTask task }
		e.post(t, a.Token, `mutation($id: ID!, $in: UpdateTaskInput!) { updateTask(id: $id, input: $in) { dueDate } }`,
			vars{"id": id, "in": json.RawMessage(`{"dueDate": null}`)}).decode(t, &upd)
		if upd.UpdateTask.DueDate != nil {
			t.Fatalf("dueDate %v after a null variable", *upd.UpdateTask.DueDate)
		}
	})

	// Not a DateTime at all is a literal error, as for a wrong Int or enum;
	// a DateTime out of range is the domain's.
	bad := []struct{ name, mutation, code string }{
		{"CreateBefore1970", `mutation { createTask(input: {title: "x", dueDate: "1969-12-31T23:59:59Z"}) { id } }`, "BAD_USER_INPUT"},
		{"CreateNotADate", `mutation { createTask(input: {title: "x", dueDate: "tomorrow"}) { id } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"UpdateNotADate", `mutation($id: ID!) { updateTask(id: $id, input: {dueDate: 20270101}) { id } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"UpdateYearOne", `mutation($id: ID!) { updateTask(id: $id, input: {dueDate: "0001-01-01T00:00:00Z"}) { id } }`, "BAD_USER_INPUT"},
		{"UpdateBefore1970", `mutation($id: ID!) { updateTask(id: $id, input: {dueDate: "1900-01-01T00:00:00Z"}) { id } }`, "BAD_USER_INPUT"},
	}
	for _, b := range bad {
		t.Run("BadInput/"+b.name, func(t *testing.T) {
			before := e.tasksOf(t, a.ID)
			wantCode(t, e.post(t, a.Token, b.mutation, vars{"id": id}), b.code)
			if after := e.tasksOf(t, a.ID); len(after) != len(before) || !reflect.DeepEqual(after[0], before[0]) {
				t.Fatalf("a refused input changed the tasks: %+v → %+v", before, after)
			}
		})
	}
}

func TestMutationsReturnWhatCachesNeed(t *testing.T) {
	e := newEnv(t)
	a := e.mustRegister(t, "cachey")
	other := e.mustRegister(t, "other")
	type stats struct{ Pending, Ongoing, Complete, Total int }
	var created struct {
		CreateTask struct {
			ID    string
			Owner struct {
				ID    string
				Stats stats
			}
		}
	}
	e.post(t, a.Token, `mutation { createTask(input: {title: "one"}) { id owner { id stats { pending ongoing complete total } } } }`, nil).decode(t, &created)
	if o := created.CreateTask.Owner; o.ID != a.ID || o.Stats != (stats{1, 0, 0, 1}) {
		t.Fatalf("createTask's owner = %+v, want %s with 1 pending", o, a.ID)
	}
	id := created.CreateTask.ID

	var updated struct {
		UpdateTask struct{ Owner struct{ Stats stats } }
	}
	e.post(t, a.Token, `mutation($id: ID!) { updateTask(id: $id, input: {status: COMPLETE}) { owner { stats { pending ongoing complete total } } } }`, vars{"id": id}).decode(t, &updated)
	if s := updated.UpdateTask.Owner.Stats; s != (stats{0, 0, 1, 1}) {
		t.Fatalf("updateTask's owner stats = %+v", s)
	}

	// Someone else's task: NOT_FOUND, and it stays.
	wantCode(t, e.post(t, other.Token, `mutation($id: ID!) { removeTask(id: $id) { deletedTaskId } }`, vars{"id": id}), "NOT_FOUND")

	var removed struct {
		RemoveTask struct {
			DeletedTaskID string `json:"deletedTaskId"`
			Task          struct{ ID, Title, Status string }
			Stats         stats
		}
	}
	e.post(t, a.Token, `mutation($id: ID!) { removeTask(id: $id) { deletedTaskId task { id title status } stats { pending ongoing complete total } } }`, vars{"id": id}).decode(t, &removed)
	if r := removed.RemoveTask; r.DeletedTaskID != id || r.Task.ID != id || r.Task.Title != "one" || r.Task.Status != "COMPLETE" || r.Stats != (stats{}) {
		t.Fatalf("removeTask = %+v", r)
	}
	wantCode(t, e.post(t, a.Token, `mutation($id: ID!) { removeTask(id: $id) { deletedTaskId } }`, vars{"id": id}), "NOT_FOUND")
	wantCode(t, e.post(t, a.Token, `mutation { removeTask(id: "not-a-task") { deletedTaskId } }`, nil), "NOT_FOUND")
}

func TestNode(t *testing.T) {
	e := newEnv(t)
	a := e.mustRegister(t, "ann")
	b := e.mustRegister(t, "bob")
	admin := e.mustAdmin(t)
	task := e.mustCreateTask(t, a, "ann's")
	const q = `query($id: ID!) { node(id: $id) { __typename id ... on Task { title } ... on User { email } } }`
	cases := []struct {
		name, token, id, want string
	}{
		{"OwnTask", a.Token, task.ID, `{"node":{"__typename":"Task","id":"` + task.ID + `","title":"ann's"}}`},
		{"Themself", a.Token, a.ID, `{"node":{"__typename":"User","id":"` + a.ID + `","email":"` + a.Email + `"}}`},
		{"AdminReadsAUser", admin.Token, a.ID, `{"node":{"__typename":"User","id":"` + a.ID + `","email":"` + a.Email + `"}}`},
		{"SomeoneElsesTask", b.Token, task.ID, `{"node":null}`},
		{"AdminCannotReadTasks", admin.Token, task.ID, `{"node":null}`},
		{"SomeoneElse", b.Token, a.ID, `{"node":null}`},
		{"AbsentUser", admin.Token, "VAH999999", `{"node":null}`},
		{"Garbage", a.Token, "Task:1", `{"node":null}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post(t, c.token, q, vars{"id": c.id})
			if len(r.Errors) != 0 || string(r.Data) != c.want {
				t.Fatalf("node(%q) = %s %v, want %s", c.id, r.Data, r.Errors, c.want)
			}
		})
	}
	t.Run("NoToken", func(t *testing.T) {
		wantCode(t, e.post(t, "", q, vars{"id": task.ID}), "UNAUTHENTICATED")
	})
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func TestTasksPageBackward(t *testing.T) {
	e := newEnv(t)
	a := e.mustRegister(t, "pager")
	var ids []string
	for _, title := range []string{"a", "b", "c", "d", "e"} {
		ids = append(ids, e.mustCreateTask(t, a, title).ID)
	}
	type page struct {
		Tasks struct {
			Edges    []struct{ Node struct{ ID string } }
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
		}
	}
	const q = `query($last: Int, $before: String) { tasks(last: $last, before: $before) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	var got []string
	var before any
	for n := 0; ; n++ {
		var p page
		e.post(t, a.Token, q, vars{"last": 2, "before": before}).decode(t, &p)
		var pageIDs []string
		for _, e := range p.Tasks.Edges {
			pageIDs = append(pageIDs, e.Node.ID)
		}
		got = append(pageIDs, got...)
		if pi := p.Tasks.PageInfo; pi.HasNextPage != (n > 0) || pi.StartCursor == nil {
			t.Fatalf("page %d: %+v", n, pi)
		}
		if !p.Tasks.PageInfo.HasPreviousPage {
			break
		}
		before = *p.Tasks.PageInfo.StartCursor
	}
	if !reflect.DeepEqual(got, ids) {
		t.Fatalf("walked back %v, want %v", got, ids)
	}
	wantCode(t, e.post(t, a.Token, `{ tasks(first: 2, last: 2) { totalCount } }`, nil), "BAD_USER_INPUT")
	wantCode(t, e.post(t, a.Token, `{ tasks(last: -1) { totalCount } }`, nil), "BAD_USER_INPUT")
}

func TestTasksOrderAndSearch(t *testing.T) {
	e := newEnv(t)
	a := e.mustRegister(t, "orderly")
	type task struct{ ID, Title string }
	create := func(title, due string) {
		in := `{title: "` + title + `"}`
		if due != "" {
			in = `{title: "` + title + `", dueDate: "` + due + `"}`
		}
		e.post(t, a.Token, `mutation { createTask(input: `+in+`) { id } }`, nil).decode(t, &struct{}{})
	}
	create("Café", "2027-01-03T00:00:00Z")
	create("no date, about the CAFE", "")
	create("soon", "2027-01-01T00:00:00Z")
	create("later café", "2027-02-01T00:00:00Z")
	var got struct {
		Tasks struct {
			Edges      []struct{ Node task }
			TotalCount int
		}
	}
	list := func(args string) []string {
		t.Helper()
		e.post(t, a.Token, `{ tasks(`+args+`) { edges { node { id title } } totalCount } }`, nil).decode(t, &got)
		var out []string
		for _, e := range got.Tasks.Edges {
			out = append(out, e.Node.Title)
		}
		return out
	}
	for _, c := range []struct {
		args  string
		want  []string
		total int
	}{
		{`orderBy: {field: DUE_DATE, direction: ASC}`, []string{"soon", "Café", "later café", "no date, about the CAFE"}, 4},
		{`orderBy: {field: DUE_DATE, direction: DESC}`, []string{"later café", "Café", "soon", "no date, about the CAFE"}, 4},
		{`orderBy: {field: CREATED_AT, direction: DESC}, first: 2`, []string{"later café", "soon"}, 4},
		{`search: "CAFE", orderBy: {field: DUE_DATE, direction: DESC}`, []string{"later café", "Café", "no date, about the CAFE"}, 3},
		{`search: "cafe", status: COMPLETE`, nil, 0},
	} {
		if l := list(c.args); !reflect.DeepEqual(l, c.want) || got.Tasks.TotalCount != c.total {
			t.Errorf("tasks(%s) = %v (totalCount %d), want %v (%d)", c.args, l, got.Tasks.TotalCount, c.want, c.total)
		}
	}
	wantCode(t, e.post(t, a.Token, `{ tasks(orderBy: {field: TITLE, direction: ASC}) { totalCount } }`, nil), "GRAPHQL_VALIDATION_FAILED")
	wantCode(t, e.post(t, a.Token, `query($o: TaskOrder) { tasks(orderBy: $o) { totalCount } }`, vars{"o": vars{"field": "due_date", "direction": "ASC"}}), "GRAPHQL_VALIDATION_FAILED")
	wantCode(t, e.post(t, a.Token, `{ tasks(search: "`+strings.Repeat("x", 101)+`") { totalCount } }`, nil), "BAD_USER_INPUT")
}
