package core_test

import (
	"errors"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
)

// Parse remembers tokens whose signature it checked; their claims must
// still be checked at every use.
func TestTokens_RememberedToken(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tok := core.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, func() time.Time { return now })
	good, err := tok.Issue("VAH7", "s7")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if c, err := tok.Parse(good); err != nil || c.UserID != "VAH7" {
			t.Fatalf("Parse(good) = %+v, %v; want VAH7", c, err)
		}
	}
	t.Run("ErrExpiredOnceRemembered", func(t *testing.T) {
		now = now.Add(time.Hour + 6*time.Second) // past exp and the 5 s leeway
		if _, err := tok.Parse(good); !errors.Is(err, core.ErrUnauthenticated) {
			t.Fatalf("Parse(expired, remembered) = %v; want ErrUnauthenticated", err)
		}
	})
	t.Run("ErrOtherSecretForSameClaims", func(t *testing.T) {
		other := core.NewTokens([]byte("another-secret-another-secret-xx"), time.Hour, func() time.Time { return now })
		if _, err := other.Parse(good); !errors.Is(err, core.ErrUnauthenticated) {
			t.Fatalf("a token remembered by one Tokens passed another's check: %v", err)
		}
	})
}
