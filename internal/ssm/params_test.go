package ssm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/taskapi/taskapi/internal/ssm"
)

// fakeSSM answers GetParameters from a map, as SSM does: unknown names are
// left out, at most 10 names per call.
type fakeSSM struct {
	mu     sync.Mutex
	params map[string]string
	calls  [][]string
	err    error
}

var _ ssm.GetParametersAPI = (*fakeSSM)(nil)

func (f *fakeSSM) GetParameters(_ context.Context, names []string) ([]ssm.Parameter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(names))
	if f.err != nil {
		return nil, f.err
	}
	if len(names) > 10 {
		return nil, errors.New("ValidationException: too many names")
	}
	var out []ssm.Parameter
	for _, name := range names {
		if v, ok := f.params[name]; ok {
			out = append(out, ssm.Parameter{Name: name, Value: v})
		}
	}
	return out, nil
}

func TestLoadSSMParams(t *testing.T) {
	stored := map[string]string{
		"/taskapi/prod/jwt-secret":      "jwt-value-0123456789abcdef0123456789",
		"/taskapi/prod/pass-secret-key": "pepper-value",
		"/taskapi/prod/empty":           "",
	}
	for i := range 12 {
		stored["/many/p"+string(rune('a'+i))] = "v" + string(rune('a'+i))
	}
	tests := []struct {
		name      string
		names     map[string]string
		fakeErr   error
		want      map[string]string
		wantErr   error
		wantInErr []string
		wantCalls int
	}{
		{
			name: "OK",
			names: map[string]string{
				"JWT_SECRET": "/taskapi/prod/jwt-secret", "PASS_SECRET_KEY": "/taskapi/prod/pass-secret-key",
			},
			want: map[string]string{
				"JWT_SECRET": "jwt-value-0123456789abcdef0123456789", "PASS_SECRET_KEY": "pepper-value",
			},
			wantCalls: 1,
		},
		{
			name:      "OK_SameParameterTwiceReadOnce",
			names:     map[string]string{"A": "/taskapi/prod/jwt-secret", "B": "/taskapi/prod/jwt-secret"},
			want:      map[string]string{"A": "jwt-value-0123456789abcdef0123456789", "B": "jwt-value-0123456789abcdef0123456789"},
			wantCalls: 1,
		},
		{
			name:      "OK_NothingToRead",
			names:     map[string]string{},
			want:      map[string]string{},
			wantCalls: 0,
		},
		{
			name: "OK_MoreThanTenInBatches",
			names: func() map[string]string {
				m := map[string]string{}
				for i := range 12 {
					m["K"+string(rune('a'+i))] = "/many/p" + string(rune('a'+i))
				}
				return m
			}(),
			want: func() map[string]string {
				m := map[string]string{}
				for i := range 12 {
					m["K"+string(rune('a'+i))] = "v" + string(rune('a'+i))
				}
				return m
			}(),
			wantCalls: 2,
		},
		{
			name:      "ErrMissingParameter",
			names:     map[string]string{"JWT_SECRET": "/taskapi/prod/jwt-secret", "PASS_SECRET_KEY": "/taskapi/prod/nope"},
			wantErr:   ssm.ErrMissingParameter,
			wantInErr: []string{"PASS_SECRET_KEY", "/taskapi/prod/nope"},
			wantCalls: 1,
		},
		{
			name:      "ErrEmptyValue",
			names:     map[string]string{"JWT_SECRET": "/taskapi/prod/empty"},
			wantInErr: []string{"JWT_SECRET", "/taskapi/prod/empty", "empty"},
			wantCalls: 1,
		},
		{
			name:      "ErrEmptyName",
			names:     map[string]string{"JWT_SECRET": "  "},
			wantInErr: []string{"JWT_SECRET"},
			wantCalls: 0,
		},
		{
			name:      "ErrSSMUnreachable",
			names:     map[string]string{"JWT_SECRET": "/taskapi/prod/jwt-secret"},
			fakeErr:   errors.New("dial tcp: i/o timeout"),
			wantInErr: []string{"/taskapi/prod/jwt-secret", "i/o timeout"},
			wantCalls: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSSM{params: stored, err: tc.fakeErr}
			got, err := ssm.LoadParams(context.Background(), fake, tc.names)
			if len(fake.calls) != tc.wantCalls {
				t.Errorf("GetParameters calls = %d (%q), want %d", len(fake.calls), fake.calls, tc.wantCalls)
			}
			if tc.want != nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %d values, want %d", len(got), len(tc.want))
				}
				for k, v := range tc.want {
					if got[k] != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("err = nil, want an error (got %v)", got)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			for _, s := range tc.wantInErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			for _, v := range stored {
				if v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("error %q leaks a parameter value", err)
				}
			}
		})
	}
}
