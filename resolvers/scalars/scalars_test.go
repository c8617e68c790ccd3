package scalars_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/resolvers/scalars"
)

func TestMarshalDateTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 31, 11, 30, 0, 7_000_000, time.FixedZone("CEST", 2*3600))
	var b bytes.Buffer
	scalars.MarshalDateTime(at).MarshalGQL(&b)
	if got, want := b.String(), `"2025-01-31T09:30:00.007Z"`; got != want {
		t.Fatalf("MarshalDateTime = %s, want %s", got, want)
	}
}

func TestUnmarshalDateTime(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		got, err := scalars.UnmarshalDateTime("2025-01-31T11:30:00+02:00")
		if err != nil || !got.Equal(time.Date(2025, 1, 31, 9, 30, 0, 0, time.UTC)) || got.Location() != time.UTC {
			t.Fatalf("UnmarshalDateTime = %v, %v", got, err)
		}
	})
	for _, bad := range []any{"yesterday", "2025-01-31", 1738315800, nil} {
		if _, err := scalars.UnmarshalDateTime(bad); err == nil {
			t.Errorf("UnmarshalDateTime(%v) accepted", bad)
		}
	}
}

func TestEnums(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		if s, err := scalars.UnmarshalTaskStatus("ONGOING"); err != nil || s != core.StatusOngoing {
			t.Fatalf("UnmarshalTaskStatus = %q, %v", s, err)
		}
		if r, err := scalars.UnmarshalRole("ADMIN"); err != nil || r != core.RoleAdmin {
			t.Fatalf("UnmarshalRole = %q, %v", r, err)
		}
		if a, err := scalars.UnmarshalActivationStatus("INACTIVE"); err != nil || a != core.ActivationInactive {
			t.Fatalf("UnmarshalActivationStatus = %q, %v", a, err)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		for _, bad := range []any{"ongoing", "Ongoing", "", 1, nil} {
			if s, err := scalars.UnmarshalTaskStatus(bad); err == nil {
				t.Errorf("UnmarshalTaskStatus(%v) = %q", bad, s)
			}
		}
		if r, err := scalars.UnmarshalRole("admin"); err == nil {
			t.Errorf("UnmarshalRole(admin) = %q", r)
		}
	})
	t.Run("UnknownCoreValueIsNull", func(t *testing.T) {
		var b bytes.Buffer
		scalars.MarshalRole(core.Role("root")).MarshalGQL(&b)
		if b.String() != "null" {
			t.Fatalf("MarshalRole(root) = %s", b.String())
		}
	})
}

func TestUnmarshalInt(t *testing.T) {
	t.Parallel()
	if n, err := scalars.UnmarshalInt(int64(2147483647)); err != nil || n != 2147483647 {
		t.Fatalf("UnmarshalInt(max int32) = %d, %v", n, err)
	}
	if _, err := scalars.UnmarshalInt(int64(2147483648)); err == nil {
		t.Fatal("UnmarshalInt accepted 2^31")
	}
}
