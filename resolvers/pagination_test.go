package resolvers_test

import (
	"encoding/base64"
	"slices"
	"testing"

	"github.com/taskapi/taskapi/core"
)

type page struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID, Status string }
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
	TotalCount *int
}

const tasksPage = `query($status: TaskStatus, $first: Int, $after: String) {
  tasks(status: $status, first: $first, after: $after) {
    edges { cursor node { id status } } pageInfo { hasNextPage endCursor } totalCount
  }
}`

// walk follows endCursor until hasNextPage is false and returns every id.
func walk(t *testing.T, e *env, token string, status any, first int) (ids []string, pages int) {
	t.Helper()
	var after any
	for {
		var got struct{ Tasks page }
		e.post(t, token, tasksPage, vars{"status": status, "first": first, "after": after}).decode(t, &got)
		p := got.Tasks
		pages++
		if len(p.Edges) > first {
			t.Fatalf("page of %d edges, asked for %d", len(p.Edges), first)
		}
		for _, ed := range p.Edges {
			ids = append(ids, ed.Node.ID)
		}
		if !p.PageInfo.HasNextPage {
			return ids, pages
		}
		if p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
			t.Fatalf("endCursor %v is not the last edge's cursor", p.PageInfo.EndCursor)
		}
		after = *p.PageInfo.EndCursor
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.mustRegister(t, "pager")
	other := e.mustRegister(t, "other")
	e.mustCreateTask(t, other, "theirs")
	var all, complete []string
	for i := range 7 {
		task := e.mustCreateTask(t, a, "task")
		all = append(all, task.ID)
		if i%3 == 0 {
			st := core.StatusComplete
			if _, err := e.svc.UpdateTask(as(a), task.ID, core.UpdateTaskInput{Status: &st}); err != nil {
				t.Fatal(err)
			}
			complete = append(complete, task.ID)
		}
	}

	t.Run("OK/AllPages", func(t *testing.T) {
		ids, pages := walk(t, e, a.Token, nil, 3)
		if !slices.Equal(ids, all) || pages != 3 {
			t.Fatalf("walked %v in %d pages, want %v in 3", ids, pages, all)
		}
	})
	t.Run("OK/StatusFilter", func(t *testing.T) {
		ids, _ := walk(t, e, a.Token, "COMPLETE", 2)
		if !slices.Equal(ids, complete) {
			t.Fatalf("complete tasks %v, want %v", ids, complete)
		}
	})
	t.Run("OK/TotalCount", func(t *testing.T) {
		var got struct{ Tasks page }
		e.post(t, a.Token, tasksPage, vars{"first": 2}).decode(t, &got)
		if got.Tasks.TotalCount == nil || *got.Tasks.TotalCount != 7 || !got.Tasks.PageInfo.HasNextPage || len(got.Tasks.Edges) != 2 {
			t.Fatalf("first page %+v", got.Tasks)
		}
		e.post(t, a.Token, tasksPage, vars{"status": "COMPLETE", "first": 0}).decode(t, &got)
		if *got.Tasks.TotalCount != len(complete) || len(got.Tasks.Edges) != 0 || !got.Tasks.PageInfo.HasNextPage || got.Tasks.PageInfo.EndCursor != nil {
			t.Fatalf("first: 0 page %+v", got.Tasks)
		}
	})
	t.Run("OK/FirstCapped", func(t *testing.T) {
		var got struct{ Tasks page }
		e.post(t, a.Token, tasksPage, vars{"first": 1000}).decode(t, &got)
		if len(got.Tasks.Edges) != 7 || got.Tasks.PageInfo.HasNextPage {
			t.Fatalf("first: 1000 page %+v", got.Tasks)
		}
	})

	var first struct{ Tasks page }
	e.post(t, a.Token, tasksPage, vars{"first": 2}).decode(t, &first)
	cursor := *first.Tasks.PageInfo.EndCursor
	var firstComplete struct{ Tasks page }
	e.post(t, a.Token, tasksPage, vars{"status": "COMPLETE", "first": 1}).decode(t, &firstComplete)
	completeCursor := *firstComplete.Tasks.PageInfo.EndCursor

	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatalf("cursor is not base64url: %v", err)
	}
	raw[0] ^= 1
	tampered := base64.RawURLEncoding.EncodeToString(raw)

	for _, tc := range []struct {
		name, token string
		status      any
		after       string
	}{
		{"BAD_USER_INPUT/Tampered", a.Token, nil, tampered},
		{"BAD_USER_INPUT/Garbage", a.Token, nil, "!!not a cursor!!"},
		{"BAD_USER_INPUT/OtherUser", other.Token, nil, cursor},
		{"BAD_USER_INPUT/OtherStatusFilter", a.Token, "PENDING", cursor},
		{"BAD_USER_INPUT/FilteredCursorUnfiltered", a.Token, nil, completeCursor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(t, tc.token, tasksPage, vars{"status": tc.status, "after": tc.after})
			wantCode(t, r, "BAD_USER_INPUT")
			fields, _ := r.Errors[0].Extensions["fields"].([]any)
			if len(fields) != 1 || fields[0].(map[string]any)["field"] != "after" {
				t.Fatalf("extensions.fields = %v, want the after argument", r.Errors[0].Extensions["fields"])
			}
		})
	}
	t.Run("BAD_USER_INPUT/NegativeFirst", func(t *testing.T) {
		wantCode(t, e.post(t, a.Token, tasksPage, vars{"first": -1}), "BAD_USER_INPUT")
	})

	t.Run("OK/Users", func(t *testing.T) {
		admin := e.mustAdmin(t)
		want := e.countUsers(t)
		var seen []string
		var after any
		for {
			var got struct{ Users page }
			e.post(t, admin.Token, `query($after: String) { users(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } totalCount } }`,
				vars{"after": after}).decode(t, &got)
			for _, ed := range got.Users.Edges {
				seen = append(seen, ed.Node.ID)
			}
			if !got.Users.PageInfo.HasNextPage {
				break
			}
			after = *got.Users.PageInfo.EndCursor
		}
		if len(seen) != want || len(slices.Compact(slices.Clone(seen))) != want {
			t.Fatalf("users walked %v, want %d distinct", seen, want)
		}
		wantCode(t, e.post(t, admin.Token, `query($after: String) { users(after: $after) { totalCount } }`, vars{"after": cursor}), "BAD_USER_INPUT")
	})
}
