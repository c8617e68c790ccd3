package core

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// The value types below are parsed once, at the edge of the domain: a value
// of one of them is valid, and nothing downstream (the stores, the cache,
// the transports) checks it again. Stores rebuild them from what they wrote
// with plain conversions (core.Email(s)): data a store holds was parsed on
// its way in.

// MaxBodyBytes bounds a request body, on every transport: 1 MiB.
const MaxBodyBytes = 1 << 20

// Limits on what clients may store. The legacy app had none beyond the
// password rule; these are generous for people and small for abusers.
const (
	MaxUsernameLen    = 50
	MaxEmailLen       = 254 // RFC 5321
	MinPasswordLen    = 6   // the legacy rule
	MaxLegacyPassword = 15  // up to here a password needs a special character (the legacy rule)
	MaxPasswordLen    = 128 // long passphrases are welcome
	MaxTitleLen       = 200
	MaxDescriptionLen = 5000
)

// Email is an address as its owner wrote it, NFC-normalized, with the
// domain lowercased (as the legacy app's pydantic EmailStr returned it).
type Email string

// EmailKey is what makes two addresses the same account: Key's folding of
// case and width. Stores index users by it.
type EmailKey string

// Key is e's uniqueness key: compatibility-normalized (fullwidth "ａ" is
// "a") and case-folded, so look-alikes of one address are one account.
func (e Email) Key() EmailKey { return EmailKey(emailKey(string(e))) }

func emailKey(s string) string { return cases.Fold().String(norm.NFKC.String(s)) }

// KeyOf returns the key of an address as a client typed it (at login),
// without judging whether it is valid.
func KeyOf(email string) EmailKey { return EmailKey(emailKey(strings.TrimSpace(email))) }

// ParseEmail reads an address.
func ParseEmail(field, s string) (Email, *FieldError) {
	sent := s
	s = norm.NFC.String(strings.TrimSpace(s))
	if reason := emailProblem(s); reason != "" {
		// The input as sent, not as trimmed: what a client echoes back.
		return "", &FieldError{Field: field, Kind: KindFormat, Format: "email address", Reason: reason, Input: truncate(sent)}
	}
	local, domain, _ := strings.Cut(s, "@")
	return Email(local + "@" + strings.ToLower(domain)), nil
}

// emailProblem returns why s is not a plain address (local@domain.tld), or "".
func emailProblem(s string) string {
	switch {
	case s == "":
		return "An email address cannot be empty."
	case len(s) > MaxEmailLen:
		return fmt.Sprintf("The email address is too long (%d characters too many).", len(s)-MaxEmailLen)
	case !strings.Contains(s, "@"): // email-validator's words, as pydantic's EmailStr says them
		return "An email address must have an @-sign."
	case strings.Count(s, "@") != 1:
		return "An email address must have exactly one @-sign."
	case strings.HasPrefix(s, "@"):
		return "There must be something before the @-sign."
	case hasForbiddenRune(s, false):
		return "The email address contains invalid characters."
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "The email address contains invalid characters."
	}
	local, domain, _ := strings.Cut(s, "@")
	switch {
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, "."):
		return "The part after the @-sign is not valid. It should have a period."
	case mixedScript(local) || mixedScript(domain):
		return "The email address mixes scripts (such as Latin and Cyrillic letters in one word)."
	}
	return ""
}

// Username is a display name: NFC-normalized, otherwise as sent (spaces
// around it included: legacy clients get back what they sent).
type Username string

// ParseUsername reads a display name: 1–50 characters, at least one
// visible, no control or bidi-override characters, no word mixing scripts.
func ParseUsername(field, s string) (Username, *FieldError) {
	s, fe := parseText(field, s, true, MaxUsernameLen, false)
	if fe == nil && mixedScript(s) {
		fe = &FieldError{Field: field, Kind: KindCharacters, Reason: "must not mix scripts within a word (such as Latin and Cyrillic letters)", Input: truncate(s)}
	}
	return Username(s), fe
}

// Title is a task's title: NFC-normalized, otherwise as sent.
type Title string

// ParseTitle reads a title: 1–200 characters, at least one visible.
func ParseTitle(field, s string) (Title, *FieldError) {
	s, fe := parseText(field, s, true, MaxTitleLen, false)
	return Title(s), fe
}

// Description is a task's free text; it may be empty and span lines.
type Description string

// ParseDescription reads a description: up to 5000 characters; if not
// empty, at least one visible.
func ParseDescription(field, s string) (Description, *FieldError) {
	s, fe := parseText(field, s, false, MaxDescriptionLen, true)
	return Description(s), fe
}

// Due dates lie between these (inclusive): before 1970 is a client's
// mistake, and the zero time means "no due date" to UpdateTaskInput.
var (
	minDueDate = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDueDate = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

// ParseDueDate reads a due date: in UTC at millisecond precision (what
// GraphQL's DateTime shows, so what is sorted is what a client sees),
// between 1970 and the end of 9999.
func ParseDueDate(field string, t time.Time) (time.Time, *FieldError) {
	t = t.UTC().Truncate(time.Millisecond)
	if t.Before(minDueDate) || t.After(maxDueDate) {
		return time.Time{}, &FieldError{Field: field, Kind: KindFormat, Format: "date-time", Reason: "must be between 1970-01-01 and 9999-12-31", Input: t.Format(time.RFC3339)}
	}
	return t, nil
}

// parseText applies the rules every text field shares: valid UTF-8, NFC,
// no control characters (but line breaks and tabs where multiline), no
// bidi overrides or isolates, not only invisible characters (unless empty
// and optional), and at most maxLen characters.
func parseText(field, s string, required bool, maxLen int, multiline bool) (string, *FieldError) {
	if !utf8.ValidString(s) {
		return "", &FieldError{Field: field, Kind: KindCharacters, Reason: "must be valid UTF-8 text"}
	}
	s = norm.NFC.String(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n > maxLen:
		return s, &FieldError{Field: field, Kind: KindTooLong, Max: maxLen, Input: truncate(s)}
	case s == "" && !required:
		return s, nil
	case hasForbiddenRune(s, multiline):
		return s, &FieldError{Field: field, Kind: KindCharacters, Reason: "must not contain control or bidirectional-override characters", Input: truncate(s)}
	case !hasVisibleRune(s):
		return s, &FieldError{Field: field, Kind: KindTooShort, Min: 1, Input: s}
	}
	return s, nil
}

// hasForbiddenRune reports control characters (C0, C1, DEL; line breaks
// and tabs allowed when multiline) and the bidi embedding, override and
// isolate controls that make text display in another order than it reads.
func hasForbiddenRune(s string, multiline bool) bool {
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.IsControl(r):
			return true
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
			return true
		}
	}
	return false
}

// hasVisibleRune reports whether s has a character that draws something:
// not white space, not a format character (zero-width space, joiners, BOM…),
// and not one of the blank letters that render as nothing.
func hasVisibleRune(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zs, r), unicode.Is(unicode.Mn, r):
		case r == '\u3164', r == '\u115f', r == '\u1160', r == '\uffa0', r == '\u2800', r == '\u034f':
		default:
			return true
		}
	}
	return false
}

// confusableScripts are the scripts whose letters pass for each other's.
var confusableScripts = []*unicode.RangeTable{unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Cherokee}

// mixedScript reports whether a word of s (a run of letters and digits)
// has letters of two of confusableScripts, as "pаypal" with a Cyrillic а.
func mixedScript(s string) bool {
	seen := -1
	for _, r := range s {
		if !unicode.IsLetter(r) {
			if !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
				seen = -1 // a word ends
			}
			continue
		}
		for i, table := range confusableScripts {
			if unicode.Is(table, r) {
				if seen >= 0 && seen != i {
					return true
				}
				seen = i
				break
			}
		}
	}
	return false
}

// Password is a plaintext password that passed the policy. It never prints:
// String, GoString and LogValue show a mask, so it cannot reach a log line.
type Password struct{ s string }

func (p Password) String() string   { return "[password]" }
func (p Password) GoString() string { return "core.Password{[password]}" }

// Reveal returns the plaintext, for hashing only.
func (p Password) Reveal() string { return p.s }

// PasswordRule is the legacy password rule, in the words the legacy app's
// clients know: what a password of 6-15 characters must satisfy.
const PasswordRule = "Password must be 6-15 characters long and contain at least one special character"

// PasswordPolicy is the whole policy, in words (for documentation).
const PasswordPolicy = "6-128 characters; up to 15 characters, at least one special character (not a letter, digit or space); at least 4 different characters; not one of the 10,000 most common passwords"

// ParsePassword applies the policy: 6–128 characters; up to 15 (the
// legacy rule) at least one that is neither a letter, a digit nor white
// space; at least 4 different characters; not one of the 10,000 most common
// passwords (commonpasswords.go). Long passphrases need no special character.
func ParsePassword(field, s string) (Password, *FieldError) {
	if reason := passwordProblem(s); reason != "" {
		return Password{}, &FieldError{Field: field, Kind: KindWeak, Reason: reason, Input: ""}
	}
	return Password{s: s}, nil
}

func passwordProblem(p string) string {
	n := utf8.RuneCountInString(p)
	switch {
	case !utf8.ValidString(p) || n < MinPasswordLen:
		return PasswordRule
	case n > MaxPasswordLen:
		return fmt.Sprintf("Password must be at most %d characters long", MaxPasswordLen)
	case n <= MaxLegacyPassword && !hasSpecial(p):
		return PasswordRule
	case distinctRunes(p) < 4:
		return "Password is too repetitive: use at least 4 different characters"
	case isCommonPassword(p):
		return "Password is too common: it is on a list of the most used passwords"
	}
	return ""
}

func hasSpecial(p string) bool {
	for _, r := range p {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// PasswordOK reports whether p passes the policy.
func PasswordOK(p string) bool { return passwordProblem(p) == "" }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// truncate keeps an echoed invalid input small.
func truncate(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
