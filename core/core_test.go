package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/golang-jwt/jwt/v5"

	"github.com/taskapi/taskapi/core"
)

func TestTokens(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tok := core.NewTokens(secret, time.Hour, func() time.Time { return now })
	good, err := tok.Issue("VAH1", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tok.Parse(good); err != nil || c.UserID != "VAH1" || c.SessionID != "s1" {
		t.Fatalf("Parse(good) = %+v, %v", c, err)
	}
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := jwt.MapClaims{"sub": "VAH1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for name, token := range map[string]string{
		"ErrAlgNone":     sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid),
		"ErrHS512":       sign(jwt.SigningMethodHS512, secret, valid),
		"ErrWrongSecret": sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), valid),
		"ErrExpired":     sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "VAH1", "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}),
		"ErrNoExp":       sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "VAH1", "iat": now.Unix()}),
		"ErrFutureIat":   sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "VAH1", "iat": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}),
		"ErrNotYetValid": sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "VAH1", "nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}),
		"ErrNoSub":       sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}),
		"ErrGarbage":     "not.a.token",
		"ErrTampered":    good[:len(good)-2] + "xx",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tok.Parse(token)
			if !errors.Is(err, core.ErrUnauthenticated) {
				t.Fatalf("Parse = %v, want ErrUnauthenticated", err)
			}
			if err.Error() != "Could not validate credentials" {
				t.Fatalf("message %q leaks the reason", err.Error())
			}
		})
	}
}

func TestHasher(t *testing.T) {
	ctx := context.Background()
	cheap := &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	h := core.NewHasher("pepper", cheap, 2)
	hash, err := h.Hash(ctx, "s3cret!")
	if err != nil || !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("hash %q, %v", hash, err)
	}
	if ok, _ := h.Verify(ctx, "s3cret!", hash); !ok {
		t.Fatal("right password refused")
	}
	if ok, _ := h.Verify(ctx, "wrong!", hash); ok {
		t.Fatal("wrong password accepted")
	}
	if ok, _ := h.Verify(ctx, "s3cret!", ""); ok {
		t.Fatal("empty hash accepted")
	}
	other := core.NewHasher("another pepper", cheap, 2)
	if ok, _ := other.Verify(ctx, "s3cret!", hash); ok {
		t.Fatal("pepper ignored")
	}
	if core.OWASPParams.Memory != 19*1024 || core.OWASPParams.Iterations != 2 || core.OWASPParams.Parallelism != 1 {
		t.Fatalf("default parameters below OWASP's: %+v", core.OWASPParams)
	}
}

func TestErrorsIs(t *testing.T) {
	err := core.Errorf(core.CodeNotFound, "Task not found")
	if !errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict) {
		t.Fatal("errors.Is does not match by code")
	}
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, core.ErrNotFound) {
		t.Fatal("wrapped domain error not matched")
	}
}

func TestParseEnums(t *testing.T) {
	if s, err := core.ParseTaskStatus("ONGOING"); err != nil || s != core.StatusOngoing {
		t.Fatal(s, err)
	}
	if _, err := core.ParseTaskStatus("done"); err == nil {
		t.Fatal("unknown status accepted")
	}
	if r, err := core.ParseRole("Admin"); err != nil || r != core.RoleAdmin {
		t.Fatal(r, err)
	}
	if a, err := core.ParseActivationStatus("inactive"); err != nil || a != core.ActivationInactive {
		t.Fatal(a, err)
	}
}

func TestUnknownEnumsRefused(t *testing.T) {
	bogusRole, bogusStatus, bogusActive := core.Role(""), core.TaskStatus("done"), core.ActivationStatus("ACTIVE ")
	title := "t"
	for name, err := range map[string]error{
		"register role":       second(core.ParseRegister(core.RegisterInput{Username: "a", Email: "a@b.co", Password: "s3cret!", Role: &bogusRole})),
		"register activation": second(core.ParseRegister(core.RegisterInput{Username: "a", Email: "a@b.co", Password: "s3cret!", ActivationStatus: &bogusActive})),
		"update task status":  second(core.ParseUpdateTask(core.UpdateTaskInput{Title: &title, Status: &bogusStatus})),
		"update user role":    second(core.ParseUpdateUser(core.UpdateUserInput{Role: &bogusRole})),
	} {
		e, ok := core.AsError(err)
		if !ok || e.Code != core.CodeInvalid || e.Fields[0].Kind != core.KindEnum {
			t.Errorf("%s: err = %v, want an enum error", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
