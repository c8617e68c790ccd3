package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code is the closed set of things that can go wrong, as a client sees them.
// Each transport maps a Code to its own status exactly once.
type Code string

const (
	CodeInvalid         Code = "BAD_USER_INPUT"
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeNotFound        Code = "NOT_FOUND"
	CodeConflict        Code = "CONFLICT"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeUnavailable     Code = "SERVICE_UNAVAILABLE"
	// CodePasswordResetRequired answers the login of an account taken over
	// from the legacy app whose password could not be converted
	// (docs/migration.md): an admin must set a new one.
	CodePasswordResetRequired Code = "PASSWORD_RESET_REQUIRED"
)

// Error is a domain error: its Message is safe to show a client. Any error
// that is not an *Error is internal: transports log it and answer a generic
// message.
type Error struct {
	Code       Code
	Message    string
	Fields     []FieldError  // CodeInvalid: what was wrong with which field
	RetryAfter time.Duration // CodeRateLimited: when to try again
	Err        error         // cause, for logs only; never shown
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return e.Message
}

// defaultMessages are what a client reads for an error without a message
// of its own (the bare sentinels stores return).
var defaultMessages = map[Code]string{
	CodeInvalid:               "Invalid input",
	CodeUnauthenticated:       "Could not validate credentials",
	CodeForbidden:             "Forbidden",
	CodeNotFound:              "Not found",
	CodeConflict:              "Conflict",
	CodeRateLimited:           "Too many requests; try again later",
	CodeUnavailable:           "The database is temporarily unavailable; try again later", // only stores report it
	CodePasswordResetRequired: "Password reset required",
}

// ClientMessage is the message to show a client: e's own, or its code's.
func (e *Error) ClientMessage() string {
	if e.Message != "" {
		return e.Message
	}
	if m, ok := defaultMessages[e.Code]; ok {
		return m
	}
	return string(e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) (and the other sentinels) match any
// *Error of the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Fields == nil
}

// Sentinels for errors.Is; stores return these (wrapped with %w or as is).
var (
	ErrInvalid         = &Error{Code: CodeInvalid}
	ErrUnauthenticated = &Error{Code: CodeUnauthenticated}
	ErrForbidden       = &Error{Code: CodeForbidden}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrConflict        = &Error{Code: CodeConflict}
	ErrRateLimited     = &Error{Code: CodeRateLimited}
	ErrUnavailable     = &Error{Code: CodeUnavailable}
)

// ErrPrecondition is what a store returns when a condition the caller
// attached to a write did not hold (a quota, "another active admin
// remains", a refresh token still current): nothing was written. It is not
// a domain error on purpose: core turns it into the client's answer, and a
// path that forgets to is a loud internal error, not a vague client one.
var ErrPrecondition = errors.New("store: precondition failed")

// FieldError is one invalid field, in no transport's vocabulary: each
// transport renders it in its own words (rest/ as Pydantic v2 does,
// resolvers/ as extensions.fields).
type FieldError struct {
	// Field is the input's name as the domain spells it, lowerCamelCase
	// ("username", "activationStatus", "first").
	Field string
	Kind  Kind
	// Min and Max bound a length (KindTooShort, KindTooLong: characters) or
	// a number (KindRange: Min only).
	Min, Max int
	// Allowed lists the values of a closed set (KindEnum), in core's
	// spelling and order.
	Allowed []string
	// Format names what was expected, for KindFormat ("email address",
	// "cursor").
	Format string
	// Reason says what is wrong, in a sentence, for KindFormat, KindWeak and
	// KindCharacters.
	Reason string
	// Input is the value as given, for echoing; never a password.
	Input any
}

// Kind is what is wrong with a field.
type Kind string

const (
	KindRequired   Kind = "required"   // absent (or no field of a patch given)
	KindTooShort   Kind = "too_short"  // shorter than Min characters, or blank
	KindTooLong    Kind = "too_long"   // longer than Max characters
	KindFormat     Kind = "format"     // not of the expected form (an email, a cursor)
	KindEnum       Kind = "enum"       // not one of Allowed
	KindRange      Kind = "range"      // a number below Min
	KindWeak       Kind = "weak"       // a password the policy refuses
	KindCharacters Kind = "characters" // control, bidi-override or mixed-script text
)

// Message says what is wrong with the field, in plain words and without
// naming it (e.g. "must be at most 50 characters").
func (f FieldError) Message() string {
	switch f.Kind {
	case KindRequired:
		return "is required"
	case KindTooShort:
		if f.Min <= 1 {
			return "must not be blank"
		}
		return fmt.Sprintf("must be at least %d characters", f.Min)
	case KindTooLong:
		return fmt.Sprintf("must be at most %d %s", f.Max, plural(f.Max, "character"))
	case KindEnum:
		return "must be one of " + strings.Join(f.Allowed, ", ")
	case KindRange:
		return fmt.Sprintf("must be greater than or equal to %d", f.Min)
	case KindFormat:
		if f.Reason != "" {
			return "is not a valid " + f.Format + ": " + f.Reason
		}
		return "is not a valid " + f.Format
	}
	if f.Reason != "" {
		return f.Reason
	}
	return "is invalid"
}

// AsError returns err's *Error, if it is a domain error.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errorf returns a domain error with a client-safe message.
func Errorf(code Code, format string, args ...any) error { return newError(code, format, args...) }

// Invalid returns a CodeInvalid error listing fields.
func Invalid(fields ...FieldError) error {
	msg := "invalid input"
	if len(fields) == 1 {
		msg = fields[0].Field + " " + fields[0].Message()
	} else if len(fields) > 1 {
		msg = fmt.Sprintf("%s %s (and %d more)", fields[0].Field, fields[0].Message(), len(fields)-1)
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: fields}
}
