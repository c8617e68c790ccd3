package core_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/embedded"
)

// The service's use cases, each table-driven over a real (embedded) store:
// every rule core owns is checked here, not only through the transports.

type fixture struct {
	svc   *core.Service
	store core.Store
}

const pw = "s3cret!pw"

func newFixture(t *testing.T, cfg ...func(*core.Config)) *fixture {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := core.Config{
		Store:        st,
		Hasher:       core.NewHasher("", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}, 4),
		Tokens:       core.NewTokens([]byte("service-test-secret-service-test"), time.Hour, nil),
		CursorSecret: []byte("cursor"),
	}
	for _, f := range cfg {
		f(&c)
	}
	return &fixture{svc: core.NewService(c), store: st}
}

// user registers and logs in; it returns the user and a context acting as them.
func (f *fixture) user(t *testing.T, name string) (core.User, context.Context) {
	t.Helper()
	u, err := f.svc.Register(context.Background(), core.RegisterInput{Username: name, Email: name + "@example.com", Password: pw})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return u, f.as(t, name+"@example.com")
}

func (f *fixture) admin(t *testing.T, name string) (core.User, context.Context) {
	t.Helper()
	u, _, err := f.svc.CreateAdmin(context.Background(), name+"@example.com", pw, name)
	if err != nil {
		t.Fatalf("create admin %s: %v", name, err)
	}
	return u, f.as(t, name+"@example.com")
}

func (f *fixture) as(t *testing.T, email string) context.Context {
	t.Helper()
	p, err := f.svc.Login(context.Background(), email, pw)
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return core.WithRequest(context.Background(), p.AccessToken, "192.0.2.1")
}

// wantCode checks err's domain code ("" for no error) and, if msg is set,
// its client message.
func wantCode(t *testing.T, err error, code core.Code, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e, ok := core.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	if msg != "" && e.ClientMessage() != msg {
		t.Fatalf("message %q, want %q", e.ClientMessage(), msg)
	}
}

func ptr[T any](v T) *T { return &v }

func TestRegister(t *testing.T) {
	f := newFixture(t)
	_, adminCtx := f.admin(t, "root")
	_, userCtx := f.user(t, "taken")
	admin := core.RoleAdmin
	inactive := core.ActivationInactive
	for _, tc := range []struct {
		name string
		ctx  context.Context
		in   core.RegisterInput
		code core.Code
		msg  string
	}{
		{"OK", context.Background(), core.RegisterInput{Username: "ann", Email: "Ann.Lee@Example.com", Password: pw}, "", ""},
		{"OK/InactiveOnRequest", context.Background(), core.RegisterInput{Username: "sleepy", Email: "sleepy@example.com", Password: pw, ActivationStatus: &inactive}, "", ""},
		{"OK/AdminByAdmin", adminCtx, core.RegisterInput{Username: "deputy", Email: "deputy@example.com", Password: pw, Role: &admin}, "", ""},
		{"ErrForbidden/AdminAnonymously", context.Background(), core.RegisterInput{Username: "m", Email: "m1@example.com", Password: pw, Role: &admin}, core.CodeForbidden, "Only an admin can create an admin"},
		{"ErrForbidden/AdminByUser", userCtx, core.RegisterInput{Username: "m", Email: "m2@example.com", Password: pw, Role: &admin}, core.CodeForbidden, ""},
		{"ErrConflict/SameEmail", context.Background(), core.RegisterInput{Username: "x", Email: "taken@example.com", Password: pw}, core.CodeConflict, "Email already registered"},
		{"ErrConflict/OtherCase", context.Background(), core.RegisterInput{Username: "x", Email: "TAKEN@example.COM", Password: pw}, core.CodeConflict, ""},
		{"ErrConflict/Fullwidth", context.Background(), core.RegisterInput{Username: "x", Email: "\uff54aken@example.com", Password: pw}, core.CodeConflict, ""},
		{"ErrInvalid/Everything", context.Background(), core.RegisterInput{Username: " ", Email: "nope", Password: "weak"}, core.CodeInvalid, ""},
		{"ErrInvalid/CommonPassword", context.Background(), core.RegisterInput{Username: "c", Email: "c@example.com", Password: "password1"}, core.CodeInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := countUsers(t, f)
			u, err := f.svc.Register(tc.ctx, tc.in)
			wantCode(t, err, tc.code, tc.msg)
			if tc.code != "" {
				if n := countUsers(t, f); n != before {
					t.Fatalf("a refused registration stored a user (%d → %d)", before, n)
				}
				return
			}
			if _, ok := core.ParseUserID(u.ID); !ok || u.PasswordHash == "" || u.PasswordHash == tc.in.Password {
				t.Fatalf("registered %+v", u)
			}
			if string(u.Username) != tc.in.Username {
				t.Fatalf("username %q, want it as sent", u.Username)
			}
		})
	}
	t.Run("ErrInvalid/ListsEveryField", func(t *testing.T) {
		_, err := f.svc.Register(context.Background(), core.RegisterInput{Username: " ", Email: "nope", Password: "weak"})
		e, _ := core.AsError(err)
		var fields []string
		for _, fe := range e.Fields {
			fields = append(fields, fe.Field)
		}
		if fmt.Sprint(fields) != "[username email password]" {
			t.Fatalf("fields %v, want username, email and password", fields)
		}
	})
	t.Run("IDsIncrease", func(t *testing.T) {
		a, _ := f.user(t, "first")
		b, _ := f.user(t, "second")
		na, _ := core.ParseUserID(a.ID)
		nb, _ := core.ParseUserID(b.ID)
		if nb <= na {
			t.Fatalf("%s then %s", a.ID, b.ID)
		}
	})
}

func countUsers(t *testing.T, f *fixture) int {
	t.Helper()
	users, _, err := f.store.ListUsers(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

func TestUserIDBlocks(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.UserIDBlock = 10 })
	var ids []uint64
	for i := range 12 {
		u, _ := f.user(t, fmt.Sprint("blk", i))
		n, _ := core.ParseUserID(u.ID)
		ids = append(ids, n)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids %v do not increase", ids)
		}
	}
	// Twelve registrations reserved two blocks of ten, not twelve numbers.
	if next, err := f.store.ReserveUserNumbers(context.Background(), 1); err != nil || next != 21 {
		t.Fatalf("next number %d (%v), want 21", next, err)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	u, _ := f.user(t, "ann")
	_, adminCtx := f.admin(t, "root")
	off := core.ActivationInactive
	sleeper, _ := f.user(t, "sleeper")
	if _, err := f.svc.UpdateUser(adminCtx, sleeper.ID, core.UpdateUserInput{ActivationStatus: &off}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, email, password string
		code                  core.Code
		msg                   string
	}{
		{"OK", "ann@example.com", pw, "", ""},
		{"OK/AnyCase", " ANN@Example.com ", pw, "", ""},
		{"ErrUnauthenticated/WrongPassword", "ann@example.com", "Wr0ng!pw", core.CodeUnauthenticated, "Incorrect email or password"},
		{"ErrUnauthenticated/UnknownEmail", "nobody@example.com", pw, core.CodeUnauthenticated, "Incorrect email or password"},
		{"ErrUnauthenticated/HugePassword", "ann@example.com", string(make([]byte, 10_000)), core.CodeUnauthenticated, "Incorrect email or password"},
		// Only the right password learns that an account is inactive.
		{"ErrForbidden/InactiveRightPassword", "sleeper@example.com", pw, core.CodeForbidden, "Inactive user"},
		{"ErrUnauthenticated/InactiveWrongPassword", "sleeper@example.com", "Wr0ng!pw", core.CodeUnauthenticated, "Incorrect email or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.svc.Login(context.Background(), tc.email, tc.password)
			wantCode(t, err, tc.code, tc.msg)
			if tc.code == "" && (p.User.ID != u.ID || p.AccessToken == "" || p.TokenType != "bearer" || p.ExpiresIn != 3600) {
				t.Fatalf("payload %+v", p)
			}
		})
	}
}

func TestTasks(t *testing.T) {
	f := newFixture(t, func(c *core.Config) { c.MaxTasksPerUser = 3 })
	_, ann := f.user(t, "ann")
	_, bob := f.user(t, "bob")
	a, err := f.svc.CreateTask(ann, core.CreateTaskInput{Title: "  keep my spaces ", Description: "d"})
	wantCode(t, err, "", "")
	if a.Title != "  keep my spaces " || a.Status != core.StatusPending || !a.CreatedAt.Equal(a.UpdatedAt) {
		t.Fatalf("created %+v", a)
	}
	done := core.StatusComplete
	for _, tc := range []struct {
		name string
		do   func() error
		code core.Code
		msg  string
	}{
		{"Create/ErrInvalid/BlankTitle", func() error { _, err := f.svc.CreateTask(ann, core.CreateTaskInput{Title: " \u200b "}); return err }, core.CodeInvalid, ""},
		{"Create/ErrUnauthenticated", func() error {
			_, err := f.svc.CreateTask(context.Background(), core.CreateTaskInput{Title: "x"})
			return err
		}, core.CodeUnauthenticated, "Not authenticated"},
		{"Get/ErrNotFound/Others", func() error { _, err := f.svc.GetTask(bob, a.ID); return err }, core.CodeNotFound, "Task not found"},
		{"Get/ErrNotFound/Garbage", func() error { _, err := f.svc.GetTask(ann, "../../etc"); return err }, core.CodeNotFound, "Task not found"},
		{"Update/ErrNotFound/Others", func() error { _, err := f.svc.UpdateTask(bob, a.ID, core.UpdateTaskInput{Status: &done}); return err }, core.CodeNotFound, ""},
		{"Update/ErrInvalid/NoField", func() error { _, err := f.svc.UpdateTask(ann, a.ID, core.UpdateTaskInput{}); return err }, core.CodeInvalid, ""},
		{"Delete/ErrNotFound/Others", func() error { return f.svc.DeleteTask(bob, a.ID) }, core.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.do(), tc.code, tc.msg)
			got, err := f.svc.GetTask(ann, a.ID)
			if err != nil || got != a {
				t.Fatalf("task changed by a refused call: %+v, %v", got, err)
			}
		})
	}
	t.Run("Update/OK", func(t *testing.T) {
		got, err := f.svc.UpdateTask(ann, a.ID, core.UpdateTaskInput{Status: &done, Description: ptr("")})
		wantCode(t, err, "", "")
		if got.Status != done || got.Description != "" || got.Title != a.Title || !got.UpdatedAt.After(a.UpdatedAt.Add(-time.Millisecond)) {
			t.Fatalf("updated %+v", got)
		}
		st, _ := f.svc.Stats(ann, a.UserID)
		if st.Complete() != 1 || st.Total() != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("Quota", func(t *testing.T) {
		for i := range 2 {
			if _, err := f.svc.CreateTask(ann, core.CreateTaskInput{Title: fmt.Sprint("t", i)}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.CreateTask(ann, core.CreateTaskInput{Title: "fourth"})
		wantCode(t, err, core.CodeInvalid, "Task limit reached: a user may keep at most 3 tasks")
		if st, _ := f.svc.Stats(ann, a.UserID); st.Total() != 3 {
			t.Fatalf("%d tasks after the refusal, want 3", st.Total())
		}
		// Another user has their own quota.
		if _, err := f.svc.CreateTask(bob, core.CreateTaskInput{Title: "bob's"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Stats/ErrForbidden/Others", func(t *testing.T) {
		_, err := f.svc.Stats(bob, a.UserID)
		wantCode(t, err, core.CodeForbidden, "")
	})
	t.Run("Delete/OK", func(t *testing.T) {
		wantCode(t, f.svc.DeleteTask(ann, a.ID), "", "")
		_, err := f.svc.GetTask(ann, a.ID)
		wantCode(t, err, core.CodeNotFound, "")
	})
}

func TestListTasks(t *testing.T) {
	f := newFixture(t)
	_, ann := f.user(t, "ann")
	_, bob := f.user(t, "bob")
	var ids []string
	for i := range 7 {
		tk, err := f.svc.CreateTask(ann, core.CreateTaskInput{Title: fmt.Sprint("t", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	done := core.StatusComplete
	if _, err := f.svc.UpdateTask(ann, ids[2], core.UpdateTaskInput{Status: &done}); err != nil {
		t.Fatal(err)
	}
	t.Run("PagesCoverEverythingOnce", func(t *testing.T) {
		var got []string
		var after *string
		for {
			c, err := f.svc.ListTasks(ann, core.TaskListArgs{First: ptr(3), After: after})
			if err != nil {
				t.Fatal(err)
			}
			if count(c) != 7 {
				t.Fatalf("totalCount %d", count(c))
			}
			for _, e := range c.Edges {
				got = append(got, e.Node.ID)
			}
			if !c.PageInfo.HasNextPage {
				break
			}
			after = c.PageInfo.EndCursor
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Fatalf("walked %v, want %v", got, ids)
		}
	})
	t.Run("StatusFilter", func(t *testing.T) {
		c, err := f.svc.ListTasks(ann, core.TaskListArgs{Status: &done})
		if err != nil || count(c) != 1 || len(c.Edges) != 1 || c.Edges[0].Node.ID != ids[2] {
			t.Fatalf("%+v, %v", c, err)
		}
	})
	t.Run("PagesBackwardCoverEverythingOnce", func(t *testing.T) {
		var got []string
		var before *string
		for {
			c, err := f.svc.ListTasks(ann, core.TaskListArgs{Last: ptr(3), Before: before})
			if err != nil {
				t.Fatal(err)
			}
			page := make([]string, len(c.Edges))
			for i, e := range c.Edges {
				page[i] = e.Node.ID
			}
			if (before != nil) != c.PageInfo.HasNextPage || len(page) == 0 || *c.PageInfo.StartCursor != c.Edges[0].Cursor {
				t.Fatalf("page %v: %+v", page, c.PageInfo)
			}
			got = append(page, got...) // each page is in list order, older pages come later
			if !c.PageInfo.HasPreviousPage {
				break
			}
			before = c.PageInfo.StartCursor
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Fatalf("walked back %v, want %v", got, ids)
		}
	})
	t.Run("ForwardAndBackMeet", func(t *testing.T) {
		fwd, err := f.svc.ListTasks(ann, core.TaskListArgs{First: ptr(4)})
		if err != nil || fwd.PageInfo.HasPreviousPage || !fwd.PageInfo.HasNextPage {
			t.Fatalf("%+v, %v", fwd.PageInfo, err)
		}
		back, err := f.svc.ListTasks(ann, core.TaskListArgs{Last: ptr(10), Before: fwd.PageInfo.EndCursor})
		if err != nil || len(back.Edges) != 3 || back.Edges[0].Node.ID != ids[0] || back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
			t.Fatalf("the 3 before the 4th: %+v, %v", back, err)
		}
	})
	first, _ := f.svc.ListTasks(ann, core.TaskListArgs{First: ptr(2)})
	bogus := core.TaskStatus("done")
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		args  core.TaskListArgs
		code  core.Code
		field string
	}{
		{"ErrInvalid/NegativeFirst", ann, core.TaskListArgs{First: ptr(-1)}, core.CodeInvalid, "first"},
		{"ErrInvalid/NegativeLast", ann, core.TaskListArgs{Last: ptr(-1)}, core.CodeInvalid, "last"},
		{"ErrInvalid/UnknownStatus", ann, core.TaskListArgs{Status: &bogus}, core.CodeInvalid, "status"},
		{"ErrInvalid/ForgedCursor", ann, core.TaskListArgs{After: ptr("bm90IGEgY3Vyc29y")}, core.CodeInvalid, "after"},
		{"ErrInvalid/ForgedBefore", ann, core.TaskListArgs{Before: ptr("bm90IGEgY3Vyc29y")}, core.CodeInvalid, "before"},
		{"ErrInvalid/OtherUsersCursor", bob, core.TaskListArgs{After: first.PageInfo.EndCursor}, core.CodeInvalid, "after"},
		{"ErrInvalid/OtherFiltersCursor", ann, core.TaskListArgs{Status: &done, After: first.PageInfo.EndCursor}, core.CodeInvalid, "after"},
		{"ErrInvalid/FirstAndLast", ann, core.TaskListArgs{First: ptr(2), Last: ptr(2)}, core.CodeInvalid, "last"},
		{"ErrInvalid/AfterAndBefore", ann, core.TaskListArgs{After: first.PageInfo.EndCursor, Before: first.PageInfo.EndCursor}, core.CodeInvalid, "last"},
		{"OK/FirstCappedAt100", ann, core.TaskListArgs{First: ptr(1000)}, "", ""},
		{"OK/LastCappedAt100", ann, core.TaskListArgs{Last: ptr(1000)}, "", ""},
		{"OK/ZeroIsCountOnly", ann, core.TaskListArgs{First: ptr(0)}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.svc.ListTasks(tc.ctx, tc.args)
			wantCode(t, err, tc.code, "")
			var e *core.Error
			if tc.field != "" && (!errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != tc.field) {
				t.Fatalf("error %v, want one about %s", err, tc.field)
			}
			if tc.name == "OK/ZeroIsCountOnly" && (len(c.Edges) != 0 || !c.PageInfo.HasNextPage || count(c) != 7) {
				t.Fatalf("first: 0 gave %+v", c)
			}
		})
	}
}

func TestUpdateUser(t *testing.T) {
	f := newFixture(t)
	root, rootCtx := f.admin(t, "root")
	other, _ := f.admin(t, "other")
	ann, annCtx := f.user(t, "ann")
	for _, u := range []*core.User{&root, &other, &ann} { // as the logins left them
		*u, _ = f.store.GetUser(context.Background(), u.ID)
	}
	demote, off := core.RoleUser, core.ActivationInactive
	for _, tc := range []struct {
		name string
		ctx  context.Context
		id   string
		in   core.UpdateUserInput
		code core.Code
		msg  string
	}{
		{"ErrForbidden/NotAnAdmin", annCtx, ann.ID, core.UpdateUserInput{Username: ptr("x")}, core.CodeForbidden, "Admin privileges required"},
		{"ErrForbidden/OwnRole", rootCtx, root.ID, core.UpdateUserInput{Role: &demote}, core.CodeForbidden, "Admins cannot change their own role or activation status"},
		{"ErrForbidden/OtherAdminsPassword", rootCtx, other.ID, core.UpdateUserInput{Password: ptr("N3w!pass")}, core.CodeForbidden, "Admins cannot change another admin's email or password"},
		{"ErrForbidden/OtherAdminsEmail", rootCtx, other.ID, core.UpdateUserInput{Email: ptr("mine@example.com")}, core.CodeForbidden, ""},
		{"ErrNotFound", rootCtx, "VAH99999", core.UpdateUserInput{Username: ptr("x")}, core.CodeNotFound, "User not found"},
		{"ErrNotFound/Garbage", rootCtx, "EMAIL#ann@example.com", core.UpdateUserInput{Username: ptr("x")}, core.CodeNotFound, "User not found"},
		{"ErrConflict/TakenEmail", rootCtx, ann.ID, core.UpdateUserInput{Email: ptr("OTHER@example.com")}, core.CodeConflict, "Email already registered"},
		{"ErrInvalid", rootCtx, ann.ID, core.UpdateUserInput{Email: ptr("no"), Password: ptr("weak")}, core.CodeInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.UpdateUser(tc.ctx, tc.id, tc.in)
			wantCode(t, err, tc.code, tc.msg)
			for _, u := range []core.User{root, other, ann} {
				got, _ := f.store.GetUser(context.Background(), u.ID)
				if got != u {
					t.Fatalf("%s changed by a refused update: %+v", u.ID, got)
				}
			}
		})
	}
	t.Run("OK/ResetsAUsersPassword", func(t *testing.T) {
		_, err := f.svc.UpdateUser(rootCtx, ann.ID, core.UpdateUserInput{Password: ptr("N3w!pass"), Username: ptr("Ann L.")})
		wantCode(t, err, "", "")
		if _, err := f.svc.Login(context.Background(), "ann@example.com", "N3w!pass"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OK/DemotesAnotherAdmin", func(t *testing.T) {
		u, err := f.svc.UpdateUser(rootCtx, other.ID, core.UpdateUserInput{Role: &demote})
		if err != nil || u.Role != core.RoleUser {
			t.Fatalf("%+v, %v", u, err)
		}
	})
	t.Run("OK/DeactivationTakesEffectAtOnce", func(t *testing.T) {
		p, err := f.svc.Login(context.Background(), "ann@example.com", "N3w!pass")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateUser(rootCtx, ann.ID, core.UpdateUserInput{ActivationStatus: &off}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Me(core.WithRequest(context.Background(), p.AccessToken, "")) // the next request
		wantCode(t, err, core.CodeUnauthenticated, "Inactive user")
	})
}

func TestTheLastActiveAdminStays(t *testing.T) {
	f := newFixture(t)
	a, aCtx := f.admin(t, "a")
	b, bCtx := f.admin(t, "b")
	demote := core.RoleUser
	// Each demotes the other at the same time: at most one may win.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { _, errs[0] = f.svc.UpdateUser(aCtx, b.ID, core.UpdateUserInput{Role: &demote}) })
	wg.Go(func() { _, errs[1] = f.svc.UpdateUser(bCtx, a.ID, core.UpdateUserInput{Role: &demote}) })
	wg.Wait()
	for _, err := range errs {
		// The loser is refused either way: as the last active admin's
		// demoter, or as no longer an admin (their sessions ended with it).
		if e, ok := core.AsError(err); err != nil && (!ok || (e.Code != core.CodeConflict && e.Code != core.CodeForbidden && e.Code != core.CodeUnauthenticated)) {
			t.Fatalf("error %v, want CONFLICT, FORBIDDEN or UNAUTHENTICATED", err)
		}
	}
	active := 0
	for _, id := range []string{a.ID, b.ID} {
		u, _ := f.store.GetUser(context.Background(), id)
		if u.IsAdmin() && u.IsActive() {
			active++
		}
	}
	if active < 1 {
		t.Fatal("no active admin left")
	}
}

func TestCreateAdmin(t *testing.T) {
	f := newFixture(t)
	u, created, err := f.svc.CreateAdmin(context.Background(), "Boss@example.com", pw, "")
	if err != nil || !created || !u.IsAdmin() || u.Username != "Boss" {
		t.Fatalf("%+v, %v, %v", u, created, err)
	}
	// An existing account is promoted (and reactivated), not duplicated.
	plain, _ := f.user(t, "plain")
	p, created, err := f.svc.CreateAdmin(context.Background(), "PLAIN@example.com", "N3w!pass", "")
	if err != nil || created || p.ID != plain.ID || !p.IsAdmin() {
		t.Fatalf("promotion: %+v, %v, %v", p, created, err)
	}
	if _, err := f.svc.Login(context.Background(), "plain@example.com", "N3w!pass"); err != nil {
		t.Fatal("the new password does not work:", err)
	}
	_, _, err = f.svc.CreateAdmin(context.Background(), "x@example.com", "weak", "")
	if !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("weak password: %v", err)
	}
}
