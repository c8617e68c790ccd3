package resolvers_test

import (
	"encoding/json"
	"testing"
)

// deleteAccount, deleteUser and exportMyData through GraphQL: the same
// rules as in core, the codes a client switches on.
func TestAccountOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.mustAdmin(t)
	ann := e.mustRegister(t, "ann")
	bob := e.mustRegister(t, "bob")
	e.mustCreateTask(t, ann, "ann's")
	e.mustCreateTask(t, bob, "bob's")
	deleteAccount := func(token, pw string) response {
		return e.post(t, token, `mutation($p: String!) { deleteAccount(password: $p) }`, vars{"p": pw})
	}
	deleteUser := func(token, id string) response {
		return e.post(t, token, `mutation($id: ID!) { deleteUser(id: $id) }`, vars{"id": id})
	}

	refused := []struct {
		name string
		r    func() response
		code string
	}{
		{"DeleteAccount/NoToken", func() response { return deleteAccount("", testPassword) }, "UNAUTHENTICATED"},
		{"DeleteAccount/WrongPassword", func() response { return deleteAccount(ann.Token, "Wr0ng!pw") }, "UNAUTHENTICATED"},
		{"DeleteAccount/TheLastAdmin", func() response { return deleteAccount(admin.Token, testPassword) }, "CONFLICT"},
		{"DeleteUser/NotAnAdmin", func() response { return deleteUser(bob.Token, ann.ID) }, "FORBIDDEN"},
		{"DeleteUser/Unknown", func() response { return deleteUser(admin.Token, "VAH999999") }, "NOT_FOUND"},
		{"DeleteUser/Themself", func() response { return deleteUser(admin.Token, admin.ID) }, "FORBIDDEN"},
		{"Export/NoToken", func() response { return e.post(t, "", `{ exportMyData }`, nil) }, "UNAUTHENTICATED"},
	}
	for _, tt := range refused {
		t.Run("Refused/"+tt.name, func(t *testing.T) {
			before := e.countUsers(t)
			wantCode(t, tt.r(), tt.code)
			if e.countUsers(t) != before || len(e.tasksOf(t, ann.ID)) != 1 {
				t.Fatal("a refused operation deleted something")
			}
		})
	}

	t.Run("OK/Export", func(t *testing.T) {
		var r struct{ ExportMyData string }
		e.post(t, ann.Token, `{ exportMyData }`, nil).decode(t, &r)
		var doc struct {
			User  struct{ ID string }
			Tasks []struct{ Title string }
		}
		if err := json.Unmarshal([]byte(r.ExportMyData), &doc); err != nil || doc.User.ID != ann.ID || len(doc.Tasks) != 1 || doc.Tasks[0].Title != "ann's" {
			t.Fatalf("export %q: %v", r.ExportMyData, err)
		}
	})

	t.Run("OK/DeleteAccountAndDeleteUser", func(t *testing.T) {
		var r struct{ DeleteAccount bool }
		deleteAccount(ann.Token, testPassword).decode(t, &r)
		var d struct{ DeleteUser bool }
		deleteUser(admin.Token, bob.ID).decode(t, &d)
		if !r.DeleteAccount || !d.DeleteUser {
			t.Fatalf("answers %v %v", r, d)
		}
		for _, a := range []account{ann, bob} {
			wantCode(t, e.post(t, a.Token, `{ me { id } }`, nil), "UNAUTHENTICATED")
			if len(e.tasksOf(t, a.ID)) != 0 {
				t.Fatalf("%s's tasks survived", a.ID)
			}
			var u struct{ User *struct{ ID string } }
			e.post(t, admin.Token, `query($id: ID!) { user(id: $id) { id } }`, vars{"id": a.ID}).decode(t, &u)
			if u.User != nil {
				t.Fatalf("the admin still reads %s", a.ID)
			}
		}
	})
}
