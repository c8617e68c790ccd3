package core

import (
	"errors"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and checks access tokens: JWTs signed with HS256 and only
// HS256 (a token naming any other algorithm, "none" included, is refused),
// carrying sub (the user id), sid (the session), iat and exp.
type Tokens struct {
	secret    []byte
	ttl       time.Duration
	now       func() time.Time
	parser    *jwt.Parser
	validator *jwt.Validator // the parser's claim checks, for verified tokens

	// verified remembers the claims of tokens whose signature checked out:
	// a client sends the same token with every request, and checking a
	// signature and decoding JSON cost more than the rest of a cached read.
	// The claims (expiry included) are validated again at every use.
	mu       sync.Mutex
	verified map[string]*claims
}

// claims are an access token's: the registered ones and the session id
// (absent from tokens the legacy app issued).
type claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid,omitempty"`
}

// TokenClaims is what a checked access token says.
type TokenClaims struct {
	UserID    string
	SessionID string    // "" for a token without a session (legacy)
	IssuedAt  time.Time // zero if the token has no iat
}

// maxVerified bounds Tokens.verified (about 1 MiB of tokens).
const maxVerified = 4096

// NewTokens returns Tokens signing with secret; tokens live for ttl.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	claimChecks := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(5 * time.Second),
	}
	return &Tokens{
		secret:    secret,
		ttl:       ttl,
		now:       now,
		parser:    jwt.NewParser(append([]jwt.ParserOption{jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()})}, claimChecks...)...),
		validator: jwt.NewValidator(claimChecks...),
		verified:  map[string]*claims{},
	}
}

// TTL is how long an issued token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed token for userID's session sessionID.
func (t *Tokens) Issue(userID, sessionID string) (string, error) {
	now := t.now().UTC()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
		SessionID: sessionID,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
}

// errBadToken is the one answer to every unusable token: clients need not
// know whether it expired or was forged.
var errBadToken = &Error{Code: CodeUnauthenticated, Message: "Could not validate credentials"}

// Parse checks token and returns what it says.
func (t *Tokens) Parse(token string) (TokenClaims, error) {
	t.mu.Lock()
	seen := t.verified[token]
	t.mu.Unlock()
	if seen != nil {
		if err := t.validator.Validate(seen); err != nil {
			return TokenClaims{}, &Error{Code: CodeUnauthenticated, Message: errBadToken.Message, Err: err}
		}
		return seen.public(), nil
	}
	c := &claims{}
	_, err := t.parser.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		return TokenClaims{}, &Error{Code: CodeUnauthenticated, Message: errBadToken.Message, Err: err}
	}
	if c.Subject == "" {
		return TokenClaims{}, &Error{Code: CodeUnauthenticated, Message: errBadToken.Message, Err: errors.New("token without sub")}
	}
	t.mu.Lock()
	if len(t.verified) >= maxVerified {
		clear(t.verified) // simpler than an LRU; refilled by the next requests
	}
	t.verified[token] = c
	t.mu.Unlock()
	return c.public(), nil
}

func (c *claims) public() TokenClaims {
	tc := TokenClaims{UserID: c.Subject, SessionID: c.SessionID}
	if c.IssuedAt != nil {
		tc.IssuedAt = c.IssuedAt.Time
	}
	return tc
}
