package core

import (
	"errors"
	"fmt"
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

// FieldError is one invalid field, in the vocabulary of Pydantic v2 (which
// the legacy REST clients parse): Type is e.g. "missing", "string_too_long",
// "enum" or "value_error"; Msg is the human sentence.
type FieldError struct {
	Field string // legacy snake_case name, e.g. "activation_status"
	Type  string
	Msg   string
	Input any
	Ctx   map[string]any
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
		msg = fields[0].Field + ": " + fields[0].Msg
	} else if len(fields) > 1 {
		msg = fmt.Sprintf("%s: %s (and %d more)", fields[0].Field, fields[0].Msg, len(fields)-1)
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: fields}
}
