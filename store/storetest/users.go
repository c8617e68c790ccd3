package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

func testUsers(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("CreateReturnsStoredUser", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := NewUser(UniqueEmail("ann"))
		in.Role, in.ActivationStatus = core.RoleAdmin, core.ActivationInactive
		u, err := s.CreateUser(t.Context(), in)
		wantNoErr(t, err)
		want := in
		wantUser(t, u, want)

		got, err := s.GetUser(t.Context(), u.ID)
		wantNoErr(t, err)
		wantUser(t, got, want)
		got, err = s.GetUserByEmail(t.Context(), in.Email.Key())
		wantNoErr(t, err)
		wantUser(t, got, want)
		if got.PasswordHash != in.PasswordHash { // the login's read: never without it
			t.Errorf("GetUserByEmail's PasswordHash = %q, want %q", got.PasswordHash, in.PasswordHash)
		}
	})

	t.Run("PasswordHashAndTimesRoundTripExactly", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		in := NewUser(UniqueEmail("hash"))
		in.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$AAAAAAAAAAAAAAAAAAAAAA$" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI"
		in.CreatedAt = time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("X", 5*3600+1800))
		u, err := s.CreateUser(t.Context(), in)
		wantNoErr(t, err)
		byEmail, err := s.GetUserByEmail(t.Context(), in.Email.Key())
		wantNoErr(t, err)
		if byEmail.PasswordHash != in.PasswordHash {
			t.Errorf("PasswordHash = %q, want it stored as given", byEmail.PasswordHash)
		}
		got, err := s.GetUser(t.Context(), u.ID)
		wantNoErr(t, err)
		if !got.CreatedAt.Equal(in.CreatedAt) {
			t.Errorf("CreatedAt = %v, want the same instant as %v", got.CreatedAt, in.CreatedAt)
		}
	})

	t.Run("ReservedNumbersIncreaseAndNeverRepeat", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var last uint64
		for i, n := range []int{1, 1, 5, 1, 20, 1} {
			first, err := s.ReserveUserNumbers(t.Context(), n)
			wantNoErr(t, err)
			if first <= last || first == 0 {
				t.Fatalf("reservation %d (of %d) starts at %d, not after %d", i, n, first, last)
			}
			last = first + uint64(n) - 1
		}
	})

	t.Run("GetUnknownIsErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("known"))
		for _, id := range []string{"VAH999999", "vah" + u.ID[3:], u.ID + "0"} {
			_, err := s.GetUser(t.Context(), id)
			wantErr(t, err, core.ErrNotFound)
		}
		_, err := s.GetUserByEmail(t.Context(), core.KeyOf("nobody@example.com"))
		wantErr(t, err, core.ErrNotFound)
	})

	t.Run("DuplicateEmailIsErrConflictAndChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		email := UniqueEmail("dup")
		first := MustCreateUser(t, s, email)
		for _, again := range []string{email, "DUP" + email[3:], "Dup" + email[3:], "ｄup" + email[3:]} {
			in := NewUser(again)
			in.Username, in.PasswordHash = "intruder", "other-hash"
			_, err := s.CreateUser(t.Context(), in)
			wantErr(t, err, core.ErrConflict)
		}
		got, err := s.GetUserByEmail(t.Context(), core.KeyOf(email))
		wantNoErr(t, err)
		wantUser(t, got, first)
		users, more, err := s.ListUsers(t.Context(), "", 10)
		wantNoErr(t, err)
		if len(users) != 1 || more {
			t.Fatalf("ListUsers = %v (more %v), want only %s", ids(users, userID), more, first.ID)
		}
	})

	t.Run("EmailIsKeptAsGivenAndFoundByKey", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u, err := s.CreateUser(t.Context(), NewUser("Mixed.Case@example.com"))
		wantNoErr(t, err)
		if u.Email != "Mixed.Case@example.com" {
			t.Errorf("stored email %q, want it as given", u.Email)
		}
		got, err := s.GetUserByEmail(t.Context(), core.KeyOf("MIXED.CASE@example.com"))
		wantNoErr(t, err)
		if got.ID != u.ID {
			t.Errorf("GetUserByEmail found %s, want %s", got.ID, u.ID)
		}
	})

	t.Run("UpdateChangesOnlySetFields", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := MustCreateUser(t, s, UniqueEmail("upd"))
		other := MustCreateUser(t, s, UniqueEmail("bystander"))

		got, err := s.UpdateUser(t.Context(), u.ID, core.UserPatch{})
		wantNoErr(t, err)
		wantUser(t, got, u)

		steps := []struct {
			name  string
			patch core.UserPatch
			apply func(*core.User)
		}{
			{"username", core.UserPatch{Username: ptr[core.Username]("renamed")}, func(u *core.User) { u.Username = "renamed" }},
			{"password", core.UserPatch{PasswordHash: ptr("new-hash")}, func(u *core.User) { u.PasswordHash = "new-hash" }},
			{"role", core.UserPatch{Role: ptr(core.RoleAdmin)}, func(u *core.User) { u.Role = core.RoleAdmin }},
			{"activation", core.UserPatch{ActivationStatus: ptr(core.ActivationInactive)}, func(u *core.User) { u.ActivationStatus = core.ActivationInactive }},
			{"several", core.UserPatch{Username: ptr[core.Username]("again"), ActivationStatus: ptr(core.ActivationActive)}, func(u *core.User) { u.Username, u.ActivationStatus = "again", core.ActivationActive }},
		}
		want := u
		for _, st := range steps {
			st.apply(&want)
			got, err := s.UpdateUser(t.Context(), u.ID, st.patch)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			wantUser(t, got, want)
			stored, err := s.GetUser(t.Context(), u.ID)
			wantNoErr(t, err)
			wantUser(t, stored, want)
		}
		stored, err := s.GetUser(t.Context(), other.ID)
		wantNoErr(t, err)
		wantUser(t, stored, other)
	})

	t.Run("UpdateEmailMovesTheIndex", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		oldEmail, newEmail := UniqueEmail("old"), core.Email(UniqueEmail("new"))
		u := MustCreateUser(t, s, oldEmail)
		got, err := s.UpdateUser(t.Context(), u.ID, core.UserPatch{Email: &newEmail})
		wantNoErr(t, err)
		if got.Email != newEmail {
			t.Fatalf("Email = %q, want %q", got.Email, newEmail)
		}
		byNew, err := s.GetUserByEmail(t.Context(), newEmail.Key())
		wantNoErr(t, err)
		if byNew.ID != u.ID {
			t.Fatalf("new email finds %s, want %s", byNew.ID, u.ID)
		}
		_, err = s.GetUserByEmail(t.Context(), core.KeyOf(oldEmail))
		wantErr(t, err, core.ErrNotFound)

		// The freed address can be registered again, by someone else.
		again := MustCreateUser(t, s, oldEmail)
		if again.ID == u.ID {
			t.Fatalf("re-registration reused ID %s", u.ID)
		}
	})

	t.Run("UpdateToOwnEmailIsOK", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		email := UniqueEmail("self")
		u := MustCreateUser(t, s, email)
		recased := core.Email(strings.ToUpper(email[:1]) + email[1:])
		got, err := s.UpdateUser(t.Context(), u.ID, core.UserPatch{Email: &recased, Username: ptr[core.Username]("still-me")})
		wantNoErr(t, err)
		u.Username, u.Email = "still-me", recased
		wantUser(t, got, u)
		byEmail, err := s.GetUserByEmail(t.Context(), core.KeyOf(email))
		wantNoErr(t, err)
		wantUser(t, byEmail, u)
	})

	t.Run("UpdateToTakenEmailIsErrConflictAndChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := MustCreateUser(t, s, UniqueEmail("a"))
		b := MustCreateUser(t, s, UniqueEmail("b"))
		for _, taken := range []core.Email{b.Email, "B" + b.Email[1:]} {
			_, err := s.UpdateUser(t.Context(), a.ID, core.UserPatch{Email: ptr(taken), Username: ptr[core.Username]("changed")})
			wantErr(t, err, core.ErrConflict)
		}
		for _, u := range []core.User{a, b} {
			got, err := s.GetUser(t.Context(), u.ID)
			wantNoErr(t, err)
			wantUser(t, got, u)
			byEmail, err := s.GetUserByEmail(t.Context(), u.Email.Key())
			wantNoErr(t, err)
			wantUser(t, byEmail, u)
		}
	})

	t.Run("UpdateUnknownIsErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.UpdateUser(t.Context(), "VAH424242", core.UserPatch{Username: ptr[core.Username]("ghost"), Email: ptr(core.Email(UniqueEmail("ghost")))})
		wantErr(t, err, core.ErrNotFound)
		users, _, err := s.ListUsers(t.Context(), "", 10)
		wantNoErr(t, err)
		if len(users) != 0 {
			t.Fatalf("update of an unknown user created %v", ids(users, userID))
		}
	})
}

func testUserSequence(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("ConcurrentReservationsNeverOverlap", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 20
		firsts := make([]uint64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { firsts[i], errs[i] = s.ReserveUserNumbers(t.Context(), 1+i%3) })
		}
		wg.Wait()
		seen := map[uint64]bool{}
		for i, first := range firsts {
			wantNoErr(t, errs[i])
			for k := range uint64(1 + i%3) {
				if seen[first+k] {
					t.Fatalf("number %d handed out twice", first+k)
				}
				seen[first+k] = true
			}
		}
	})

	t.Run("ConcurrentRegistrationsAllStored", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 20
		created := make([]core.User, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				created[i], errs[i] = s.CreateUser(t.Context(), NewUser(UniqueEmail(fmt.Sprint("conc", i))))
			})
		}
		wg.Wait()
		for i, u := range created {
			if errs[i] != nil {
				t.Fatalf("registration %d: %v", i, errs[i])
			}
			got, err := s.GetUser(t.Context(), u.ID)
			wantNoErr(t, err)
			wantUser(t, got, u)
		}
		users, more, err := s.ListUsers(t.Context(), "", n+1)
		wantNoErr(t, err)
		if len(users) != n || more {
			t.Fatalf("ListUsers has %d users (more %v), want %d", len(users), more, n)
		}
	})

	t.Run("ConcurrentSameEmailExactlyOneWins", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 12
		email := UniqueEmail("race")
		created := make([]core.User, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				in := NewUser(email)
				in.Username = core.Username(fmt.Sprint("racer", i))
				created[i], errs[i] = s.CreateUser(t.Context(), in)
			})
		}
		wg.Wait()
		var winner core.User
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
				winner = created[i]
			default:
				wantErr(t, err, core.ErrConflict)
			}
		}
		if wins != 1 {
			t.Fatalf("%d registrations of one email succeeded, want exactly 1", wins)
		}
		got, err := s.GetUserByEmail(t.Context(), core.KeyOf(email))
		wantNoErr(t, err)
		wantUser(t, got, winner)
		users, _, err := s.ListUsers(t.Context(), "", n+1)
		wantNoErr(t, err)
		if len(users) != 1 {
			t.Fatalf("ListUsers has %v, want only the winner %s", ids(users, userID), winner.ID)
		}
	})
}

func testListUsers(t *testing.T, open func(*testing.T) core.Store) {
	t.Run("EmptyStoreHasNoUsers", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		users, more, err := s.ListUsers(t.Context(), "", 5)
		wantNoErr(t, err)
		if len(users) != 0 || more {
			t.Fatalf("ListUsers = %v (more %v), want none", ids(users, userID), more)
		}
	})

	t.Run("PagesCoverEveryUserOnceInAStableOrder", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 11
		want := map[string]core.User{}
		for i := range n {
			u := MustCreateUser(t, s, UniqueEmail(fmt.Sprint("list", i)))
			want[u.ID] = u
		}
		var reference []string
		for _, limit := range []int{1, 2, 3, 5, 10, n, n + 1, 100} {
			var order []string
			after := ""
			for page := 0; ; page++ {
				users, more, err := s.ListUsers(t.Context(), after, limit)
				wantNoErr(t, err)
				if len(users) > limit || (more && len(users) < limit) || (!more && len(users) == 0 && page > 0) {
					t.Fatalf("limit %d page %d: %d users, more %v", limit, page, len(users), more)
				}
				for _, u := range users {
					w, ok := want[u.ID]
					if !ok {
						t.Fatalf("limit %d: unknown user %s", limit, u.ID)
					}
					wantUser(t, u, w)
					order = append(order, u.ID)
				}
				if !more {
					break
				}
				if page > n {
					t.Fatalf("limit %d: ListUsers never ends", limit)
				}
				after = users[len(users)-1].ID
			}
			if len(order) != n {
				t.Fatalf("limit %d: walked %d users (%v), want %d", limit, len(order), order, n)
			}
			if reference == nil {
				reference = order
				sorted := slices.Clone(order)
				slices.Sort(sorted)
				if len(slices.Compact(sorted)) != n {
					t.Fatalf("limit %d: duplicates in %v", limit, order)
				}
			} else if !slices.Equal(order, reference) {
				t.Fatalf("limit %d: order %v differs from %v", limit, order, reference)
			}
		}
	})

	t.Run("AfterTheLastUserIsEmpty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		MustCreateUser(t, s, UniqueEmail("first"))
		MustCreateUser(t, s, UniqueEmail("second"))
		users, more, err := s.ListUsers(t.Context(), "", 2)
		wantNoErr(t, err)
		if len(users) != 2 || more {
			t.Fatalf("ListUsers = %v (more %v), want 2 users and no more", ids(users, userID), more)
		}
		rest, more, err := s.ListUsers(t.Context(), users[1].ID, 2)
		wantNoErr(t, err)
		if len(rest) != 0 || more {
			t.Fatalf("after the last: %v (more %v), want none", ids(rest, userID), more)
		}
	})
}
