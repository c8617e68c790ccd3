package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// cursors turns a store position (the id of the last item seen) into an
// opaque, tamper-evident cursor bound to who asked and what they listed: a
// cursor made for one user's list, or one status, is refused anywhere else,
// and a forged one cannot name another user's items.
type cursors struct{ key []byte }

func newCursors(secret []byte) cursors {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("taskapi cursor key v1"))
	return cursors{key: m.Sum(nil)}
}

const macLen = 16

func (c cursors) mac(scope, pos string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(pos))
	return m.Sum(nil)[:macLen]
}

// encode returns the cursor for position pos within scope.
func (c cursors) encode(scope, pos string) string {
	b := append([]byte(pos), c.mac(scope, pos)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = Invalid(FieldError{Field: "after", Type: "value_error", Msg: "Value error, invalid cursor"})

// decode returns the position in cursor, or a CodeInvalid error if it was not
// made by encode for scope.
func (c cursors) decode(scope, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(cursor))
	if err != nil || len(b) <= macLen {
		return "", errBadCursor
	}
	pos, mac := string(b[:len(b)-macLen]), b[len(b)-macLen:]
	if !hmac.Equal(mac, c.mac(scope, pos)) {
		return "", errBadCursor
	}
	return pos, nil
}
