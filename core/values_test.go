package core_test

import (
	"strings"
	"testing"

	"github.com/taskapi/taskapi/core"
)

func TestParseEmail(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		kind           core.Kind
	}{
		{"OK/KeepsLocalPartCase", "Zed.S@Example.COM", "Zed.S@example.com", ""},
		{"OK/TrimsSurroundingSpace", "  ann@example.com ", "ann@example.com", ""},
		{"OK/Decomposed/IsNFC", "rene\u0301@example.com", "ren\u00e9@example.com", ""},
		{"ErrNoAt", "ann.example.com", "", core.KindFormat},
		{"ErrNoDot", "ann@example", "", core.KindFormat},
		{"ErrDisplayName", "Ann <ann@example.com>", "", core.KindFormat},
		{"ErrControl", "ann\x00@example.com", "", core.KindFormat},
		{"ErrBidi", "ann\u202e@example.com", "", core.KindFormat},
		{"OK/AllCyrillicWord", "\u0430\u0434\u043c\u0438\u043d@example.com", "", ""},
		{"ErrMixedScript/CyrillicA", "\u0430dmin@example.com", "", core.KindFormat},
		{"ErrMixedScript/PaypalWithCyrillic", "p\u0430ypal@example.com", "", core.KindFormat},
		{"ErrTooLong", strings.Repeat("a", 250) + "@example.com", "", core.KindFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fe := core.ParseEmail("email", tc.in)
			if tc.kind == "" {
				if fe != nil {
					t.Fatalf("ParseEmail(%q): %+v", tc.in, fe)
				}
				if tc.want != "" && string(got) != tc.want {
					t.Fatalf("ParseEmail(%q) = %q, want %q", tc.in, got, tc.want)
				}
				return
			}
			if fe == nil || fe.Kind != tc.kind || fe.Field != "email" {
				t.Fatalf("ParseEmail(%q) = %q, %+v; want a %s error", tc.in, got, fe, tc.kind)
			}
		})
	}
}

func TestEmailKeyMakesLookAlikesOneAccount(t *testing.T) {
	base := core.KeyOf("rene@example.com")
	for _, same := range []string{"RENE@EXAMPLE.COM", "René@example.com", "\uff52ene@example.com"} {
		if k := core.KeyOf(same); k == base && same != "René@example.com" {
			continue
		} else if same == "René@example.com" {
			if core.KeyOf("rene\u0301@example.com") != core.KeyOf("ren\u00e9@example.com") {
				t.Errorf("composed and decomposed é are two keys")
			}
			continue
		}
		t.Errorf("KeyOf(%q) = %q, want %q", same, core.KeyOf(same), base)
	}
}

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func(string) *core.FieldError
		in    string
		kind  core.Kind
	}{
		{"Username/OK/KeepsSpaces", username, "  padded  ", ""},
		{"Username/OK/Accents", username, "Zoë Ångström", ""},
		{"Username/OK/Cyrillic", username, "Дмитрий", ""},
		{"Username/ErrBlank", username, "   ", core.KindTooShort},
		{"Username/ErrInvisibleOnly", username, "\u200b\u2060\u3164", core.KindTooShort},
		{"Username/ErrTooLong", username, strings.Repeat("x", 51), core.KindTooLong},
		{"Username/ErrNewline", username, "ann\nbob", core.KindCharacters},
		{"Username/ErrBidiOverride", username, "admin\u202egpj", core.KindCharacters},
		{"Username/ErrMixedScript", username, "\u0430dmin", core.KindCharacters},
		{"Username/ErrMixedScriptWord", username, "p\u0430ypal", core.KindCharacters},
		{"Title/OK", title, "  Write the report ", ""},
		{"Title/ErrEmpty", title, "", core.KindTooShort},
		{"Title/ErrZeroWidthOnly", title, "\u200b", core.KindTooShort},
		{"Title/ErrTab", title, "a\tb", core.KindCharacters},
		{"Title/ErrTooLong", title, strings.Repeat("é", 201), core.KindTooLong},
		{"Description/OK/Empty", description, "", ""},
		{"Description/OK/Multiline", description, "line one\n\tline two\r\n", ""},
		{"Description/ErrInvisibleOnly", description, "\u200b\u200b", core.KindTooShort},
		{"Description/ErrBell", description, "ding\a", core.KindCharacters},
		{"Description/ErrNotUTF8", description, "\xff\xfe", core.KindCharacters},
		{"Description/ErrTooLong", description, strings.Repeat("x", 5001), core.KindTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := tc.parse(tc.in)
			switch {
			case tc.kind == "" && fe != nil:
				t.Fatalf("%q refused: %+v", tc.in, fe)
			case tc.kind != "" && (fe == nil || fe.Kind != tc.kind):
				t.Fatalf("%q: %+v, want a %s error", tc.in, fe, tc.kind)
			}
		})
	}
	if u, _ := core.ParseUsername("username", "  padded  "); u != "  padded  " {
		t.Errorf("username %q, want it as sent", u)
	}
	if u, _ := core.ParseUsername("username", "rene\u0301"); u != "ren\u00e9" {
		t.Errorf("username %q, want NFC", u)
	}
}

func username(s string) *core.FieldError { _, fe := core.ParseUsername("username", s); return fe }
func title(s string) *core.FieldError    { _, fe := core.ParseTitle("title", s); return fe }
func description(s string) *core.FieldError {
	_, fe := core.ParseDescription("description", s)
	return fe
}

func TestParsePassword(t *testing.T) {
	for _, tc := range []struct {
		name, pw string
		ok       bool
	}{
		{"OK/Legacy", "s3cret!", true},
		{"OK/LegacyLongest", "12345678901234!", true},
		{"OK/Unicode", "ünïcø∂e", true},
		{"OK/Passphrase22", "correct horse battery", true},
		{"OK/Passphrase64", strings.Repeat("abcdefgh", 8), true},
		{"OK/Passphrase128", strings.Repeat("abcdefgh", 16), true},
		{"ErrNoSpecial", "abcdef", false},
		{"ErrTooShort", "ab!", false},
		{"ErrLegacyLengthWithoutSpecial", "abcdefghijklmno", false},
		{"ErrTooLong", strings.Repeat("abcdefgh", 16) + "x", false},
		{"ErrRepetitive", "aaaaa!", false},
		{"ErrCommon", "password1", false},
		{"ErrCommonAnyCase", "PassWord123", false},
		{"ErrEmpty", "", false},
		{"ErrNotUTF8", "\xff\xfe\xfd\xfc!!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fe := core.ParsePassword("password", tc.pw)
			if (fe == nil) != tc.ok {
				t.Fatalf("ParsePassword(%q): %+v, want ok=%v", tc.pw, fe, tc.ok)
			}
			if fe != nil && (fe.Kind != core.KindWeak || fe.Input != "" || (tc.pw != "" && strings.Contains(fe.Message(), tc.pw))) {
				t.Fatalf("password error %+v echoes the password or has the wrong kind", fe)
			}
		})
	}
	p, _ := core.ParsePassword("password", "s3cret!")
	for _, shown := range []string{p.String(), p.GoString()} {
		if strings.Contains(shown, "s3cret") {
			t.Fatalf("a Password prints its plaintext: %s", shown)
		}
	}
}

func TestFieldErrorMessage(t *testing.T) {
	for fe, want := range map[*core.FieldError]string{
		{Kind: core.KindTooShort, Min: 1}:                                          "must not be blank",
		{Kind: core.KindTooLong, Max: 50}:                                          "must be at most 50 characters",
		{Kind: core.KindEnum, Allowed: []string{"a", "b"}}:                         "must be one of a, b",
		{Kind: core.KindFormat, Format: "email address", Reason: "No @."}:          "is not a valid email address: No @.",
		{Kind: core.KindRange, Min: 0}:                                             "must be greater than or equal to 0",
		{Kind: core.KindWeak, Reason: "Password is too common"}:                    "Password is too common",
		{Kind: core.KindCharacters, Reason: "must not contain control characters"}: "must not contain control characters",
	} {
		if got := fe.Message(); got != want {
			t.Errorf("%+v: %q, want %q", *fe, got, want)
		}
	}
}
