package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"
	"sync"
)

// cursors turns a store position (the id of the last item seen) into an
// opaque, tamper-evident cursor bound to who asked and what they listed: a
// cursor made for one user's list, or one status, is refused anywhere else,
// and a forged one cannot name another user's items.
type cursors struct {
	key  []byte
	macs *sync.Pool // of *macState keyed with key: a page encodes one cursor per item
}

// macState is a keyed HMAC and a buffer, reused across cursors.
type macState struct {
	h   hash.Hash
	buf []byte
}

func newCursors(secret []byte) cursors {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("taskapi cursor key v1"))
	key := m.Sum(nil)
	return cursors{key: key, macs: &sync.Pool{New: func() any {
		return &macState{h: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)}
	}}}
}

const macLen = 16

// appendMAC appends the MAC of pos within scope to dst.
func (c cursors) appendMAC(dst []byte, scope, pos string) []byte {
	st := c.macs.Get().(*macState)
	st.h.Reset()
	st.buf = append(append(append(st.buf[:0], scope...), 0), pos...)
	st.h.Write(st.buf)
	st.buf = st.h.Sum(st.buf[:0])
	dst = append(dst, st.buf[:macLen]...)
	c.macs.Put(st)
	return dst
}

func (c cursors) mac(scope, pos string) []byte { return c.appendMAC(nil, scope, pos) }

// encode returns the cursor for position pos within scope.
func (c cursors) encode(scope, pos string) string {
	var raw [128]byte
	b := c.appendMAC(append(raw[:0], pos...), scope, pos)
	var out [172]byte // base64 of 128 bytes
	return string(base64.RawURLEncoding.AppendEncode(out[:0], b))
}

var errBadCursor = Invalid(FieldError{Field: "after", Kind: KindFormat, Format: "cursor", Reason: "it was not made for this list"})

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
