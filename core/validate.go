package core

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what clients may store. The legacy app had none beyond the
// password rule; these are generous for people and small for abusers.
const (
	MaxUsernameLen    = 50
	MaxEmailLen       = 254 // RFC 5321
	MinPasswordLen    = 6   // the legacy rule
	MaxPasswordLen    = 15  // the legacy rule
	MaxTitleLen       = 200
	MaxDescriptionLen = 5000
)

// validator gathers every field error of one input, so a client learns all
// of them at once (as Pydantic reports them).
type validator struct{ errs []FieldError }

func (v *validator) add(field, typ, msg string, input any, ctx map[string]any) {
	v.errs = append(v.errs, FieldError{Field: field, Type: typ, Msg: msg, Input: input, Ctx: ctx})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return Invalid(v.errs...)
}

// text checks a trimmed string's length in characters.
func (v *validator) text(field, s string, minLen, maxLen int) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		v.add(field, "string_unicode", "Input should be a valid string, unable to parse raw data as a unicode string", s, nil)
	case n < minLen:
		v.add(field, "string_too_short", fmt.Sprintf("String should have at least %d %s", minLen, plural(minLen, "character")), s, map[string]any{"min_length": minLen})
	case n > maxLen:
		v.add(field, "string_too_long", fmt.Sprintf("String should have at most %d %s", maxLen, plural(maxLen, "character")), truncate(s), map[string]any{"max_length": maxLen})
	}
}

func (v *validator) email(field, s string) {
	if reason := emailProblem(s); reason != "" {
		v.add(field, "value_error", "value is not a valid email address: "+reason, truncate(s), map[string]any{"reason": reason})
	}
}

func (v *validator) password(field, s string) {
	if !PasswordOK(s) {
		v.add(field, "value_error", "Value error, "+PasswordRule, "", map[string]any{"error": PasswordRule})
	}
}

// PasswordRule is the legacy password policy, in words.
const PasswordRule = "Password must be 6-15 characters long and contain at least one special character"

// PasswordOK applies the legacy rule: 6–15 characters, at least one that is
// neither a letter, a digit nor white space.
func PasswordOK(p string) bool {
	n := utf8.RuneCountInString(p)
	if !utf8.ValidString(p) || n < MinPasswordLen || n > MaxPasswordLen {
		return false
	}
	for _, r := range p {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// NormalizeEmail is how emails are stored and compared: trimmed, lowercase.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// emailProblem returns why s is not a plain address (local@domain.tld), or "".
func emailProblem(s string) string {
	switch {
	case s == "":
		return "An email address cannot be empty."
	case len(s) > MaxEmailLen:
		return fmt.Sprintf("The email address is too long (%d characters too many).", len(s)-MaxEmailLen)
	case strings.Count(s, "@") != 1:
		return "An email address must have exactly one @-sign."
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "The email address contains invalid characters."
	}
	local, domain, _ := strings.Cut(s, "@")
	switch {
	case local == "":
		return "There must be something before the @-sign."
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, "."):
		return "The part after the @-sign is not valid. It should have a period."
	}
	return ""
}

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

// enum checks that a value of a closed type is one of its constants, a
// safety net under the transports' own decoding.
func (v *validator) enum(field string, value any, ok bool, allowed string) {
	if !ok {
		v.add(field, "enum", "Input should be "+allowed, value, map[string]any{"expected": allowed})
	}
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleUser || r == RoleAdmin }

// Valid reports whether s is a known task status.
func (s TaskStatus) Valid() bool {
	return s == StatusPending || s == StatusOngoing || s == StatusComplete
}

// Valid reports whether a is a known activation status.
func (a ActivationStatus) Valid() bool { return a == Active || a == Inactive }

const (
	rolesAllowed    = "'user' or 'admin'"
	statusesAllowed = "'pending', 'ongoing' or 'complete'"
	activeAllowed   = "'active' or 'inactive'"
)

// ValidateRegister checks a registration and returns it normalized.
func ValidateRegister(in RegisterInput) (RegisterInput, error) {
	var v validator
	in.Username = strings.TrimSpace(in.Username)
	in.Email = NormalizeEmail(in.Email)
	v.text("username", in.Username, 1, MaxUsernameLen)
	v.email("email", in.Email)
	v.password("password", in.Password)
	if in.Role != nil {
		v.enum("role", string(*in.Role), in.Role.Valid(), rolesAllowed)
	}
	if in.ActivationStatus != nil {
		v.enum("activation_status", string(*in.ActivationStatus), in.ActivationStatus.Valid(), activeAllowed)
	}
	return in, v.err()
}

// ValidateCreateTask checks a new task and returns it normalized.
func ValidateCreateTask(in CreateTaskInput) (CreateTaskInput, error) {
	var v validator
	in.Title = strings.TrimSpace(in.Title)
	v.text("title", in.Title, 1, MaxTitleLen)
	v.text("description", in.Description, 0, MaxDescriptionLen)
	return in, v.err()
}

// ValidateUpdateTask checks a task change and returns it normalized.
func ValidateUpdateTask(in UpdateTaskInput) (UpdateTaskInput, error) {
	var v validator
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		in.Title = &t
		v.text("title", t, 1, MaxTitleLen)
	}
	if in.Description != nil {
		v.text("description", *in.Description, 0, MaxDescriptionLen)
	}
	if in.Status != nil {
		v.enum("status", string(*in.Status), in.Status.Valid(), statusesAllowed)
	}
	if in.Title == nil && in.Description == nil && in.Status == nil {
		v.add("input", "value_error", "Value error, give at least one of title, description or status", nil, nil)
	}
	return in, v.err()
}

// ValidateUpdateUser checks an admin's change to a user and returns it normalized.
func ValidateUpdateUser(in UpdateUserInput) (UpdateUserInput, error) {
	var v validator
	if in.Username != nil {
		u := strings.TrimSpace(*in.Username)
		in.Username = &u
		v.text("username", u, 1, MaxUsernameLen)
	}
	if in.Email != nil {
		e := NormalizeEmail(*in.Email)
		in.Email = &e
		v.email("email", e)
	}
	if in.Password != nil {
		v.password("password", *in.Password)
	}
	if in.Role != nil {
		v.enum("role", string(*in.Role), in.Role.Valid(), rolesAllowed)
	}
	if in.ActivationStatus != nil {
		v.enum("activation_status", string(*in.ActivationStatus), in.ActivationStatus.Valid(), activeAllowed)
	}
	return in, v.err()
}
