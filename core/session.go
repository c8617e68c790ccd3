package core

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A session starts at login and ends at logout, at revocation, when its
// refresh token is reused, when one of the user-wide events ends them all
// (see SessionSet.EndAll), or when it expires: SessionTTL after it began
// (absolute) or SessionIdleTTL after it was last refreshed (idle).
//
// Its state lives in two places:
//   - the user record carries a SessionSet, the ids of the live sessions
//     with their expiry: authentication reads the user anyway, so checking
//     an access token's session costs no extra store round trip;
//   - a Session record per session holds what only refresh and listing
//     need: the refresh token's hash, times, user agent and address.
//
// The set is the truth: a session whose id it does not hold is over, even if
// its record lingers until the store removes it (DynamoDB TTL, the embedded
// store's sweep).

// Default lifetimes (Config.SessionTTL, Config.SessionIdleTTL) and the most
// sessions one user keeps (the oldest ends when a login would pass it).
const (
	DefaultSessionTTL     = 30 * 24 * time.Hour
	DefaultSessionIdleTTL = 7 * 24 * time.Hour
	MaxSessionsPerUser    = 20
)

// Session is one login of a user.
type Session struct {
	ID          string
	UserID      string
	CreatedAt   time.Time
	LastUsedAt  time.Time
	ExpiresAt   time.Time // absolute: CreatedAt + SessionTTL
	UserAgent   string
	IPAddress   string
	RefreshHash string // SHA-256 of the current refresh token's secret, hex
}

// until is when s ends if nothing renews it.
func (s Session) until(idle time.Duration) time.Time {
	return minTime(s.ExpiresAt, s.LastUsedAt.Add(idle))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// SessionSet is the live sessions of a user, as their user record carries
// it: a value (comparable, cacheable, safe to log: no secret in it), changed
// only through its methods.
//
// Encoding: "v=<ms>" (sessions ended before that instant, see EndAll) then
// ";<id>:<expiry ms>" per session, oldest first. Stores keep the string as is.
type SessionSet struct{ enc string }

// SessionSetOf rebuilds a set from what a store kept (Encode).
func SessionSetOf(enc string) SessionSet { return SessionSet{enc: enc} }

// Encode is the form stores keep.
func (s SessionSet) Encode() string { return s.enc }

type sessionEntry struct {
	id    string
	until int64 // Unix ms
}

func (s SessionSet) decode() (validAfter int64, entries []sessionEntry) {
	for i, part := range strings.Split(s.enc, ";") {
		if part == "" {
			continue
		}
		if i == 0 && strings.HasPrefix(part, "v=") {
			validAfter, _ = strconv.ParseInt(part[2:], 10, 64)
			continue
		}
		id, ms, ok := strings.Cut(part, ":")
		if n, err := strconv.ParseInt(ms, 10, 64); ok && err == nil {
			entries = append(entries, sessionEntry{id, n})
		}
	}
	return validAfter, entries
}

func encodeSet(validAfter int64, entries []sessionEntry) SessionSet {
	var b strings.Builder
	if validAfter > 0 {
		b.WriteString("v=" + strconv.FormatInt(validAfter, 10))
	}
	for _, e := range entries {
		b.WriteString(";" + e.id + ":" + strconv.FormatInt(e.until, 10))
	}
	return SessionSet{enc: b.String()}
}

// Live reports whether session id is in the set and not expired at now.
func (s SessionSet) Live(id string, now time.Time) bool {
	if id == "" {
		return false
	}
	_, entries := s.decode()
	for _, e := range entries {
		if e.id == id {
			return now.UnixMilli() < e.until
		}
	}
	return false
}

// Until returns when session id ends, if the set holds it (expired or not).
func (s SessionSet) Until(id string) (time.Time, bool) {
	_, entries := s.decode()
	for _, e := range entries {
		if e.id == id && id != "" {
			return time.UnixMilli(e.until), true
		}
	}
	return time.Time{}, false
}

// IDs lists the live sessions at now, oldest first.
func (s SessionSet) IDs(now time.Time) []string {
	_, entries := s.decode()
	var ids []string
	for _, e := range entries {
		if now.UnixMilli() < e.until {
			ids = append(ids, e.id)
		}
	}
	return ids
}

// AcceptsLegacy reports whether an access token without a session, issued
// at iat, may still be used: tokens of the legacy app and of taskapi's
// first release carry none; they stay valid until they expire, unless the
// user's sessions were all ended after they were issued. A token without
// an issue time (the legacy app may not have set iat) cannot be dated: it
// is accepted only while the user's sessions have never all been ended.
func (s SessionSet) AcceptsLegacy(iat time.Time) bool {
	validAfter, _ := s.decode()
	if iat.IsZero() {
		return validAfter == 0
	}
	return iat.UnixMilli() >= validAfter
}

// With returns s with session id live until until; expired sessions are
// dropped, and the oldest ones past MaxSessionsPerUser (they are ended).
// dropped lists every id that left the set.
func (s SessionSet) With(id string, until, now time.Time) (next SessionSet, dropped []string) {
	validAfter, entries := s.decode()
	kept := entries[:0:0]
	for _, e := range entries {
		switch {
		case e.id == id:
		case now.UnixMilli() >= e.until:
			dropped = append(dropped, e.id)
		default:
			kept = append(kept, e)
		}
	}
	kept = append(kept, sessionEntry{id, until.UnixMilli()})
	if over := len(kept) - MaxSessionsPerUser; over > 0 {
		for _, e := range kept[:over] {
			dropped = append(dropped, e.id)
		}
		kept = kept[over:]
	}
	return encodeSet(validAfter, kept), dropped
}

// Without returns s without the sessions ids (and without expired ones).
func (s SessionSet) Without(now time.Time, ids ...string) SessionSet {
	validAfter, entries := s.decode()
	kept := entries[:0:0]
	for _, e := range entries {
		if !slices.Contains(ids, e.id) && now.UnixMilli() < e.until {
			kept = append(kept, e)
		}
	}
	return encodeSet(validAfter, kept)
}

// EndAll returns the empty set that also refuses every token without a
// session issued before now.
func (s SessionSet) EndAll(now time.Time) SessionSet { return encodeSet(now.UnixMilli(), nil) }

// ---- refresh tokens ----

// A refresh token is "<session id>.<secret>": the id says which record to
// check, the secret (256 random bits) is known only to the client; the
// record keeps its SHA-256 (a fast hash suits a secret this long).

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func newSessionID() string { return randomToken(16) }

// newRefreshSecret returns a refresh token of session id and the hash to keep.
func newRefreshSecret(id string) (token, hash string) {
	secret := randomToken(32)
	return id + "." + secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// parseRefreshToken splits a refresh token; false for anything malformed.
func parseRefreshToken(token string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(strings.TrimSpace(token), ".")
	if !ok || len(id) != 22 || len(secret) != 43 || len(token) > 100 {
		return "", "", false
	}
	return id, secret, true
}

// secretMatches compares a presented secret with a kept hash in constant time.
func secretMatches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(hash)) == 1
}
