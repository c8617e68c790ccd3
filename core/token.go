package core

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and checks access tokens: JWTs signed with HS256 and only
// HS256 (a token naming any other algorithm, "none" included, is refused),
// carrying sub (the user id), iat and exp.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
}

// NewTokens returns Tokens signing with secret; tokens live for ttl.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{
		secret: secret,
		ttl:    ttl,
		now:    now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
			jwt.WithLeeway(5*time.Second),
		),
	}
}

// TTL is how long an issued token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed token for userID.
func (t *Tokens) Issue(userID string) (string, error) {
	now := t.now().UTC()
	claims := jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
}

// errBadToken is the one answer to every unusable token: clients need not
// know whether it expired or was forged.
var errBadToken = &Error{Code: CodeUnauthenticated, Message: "Could not validate credentials"}

// Parse checks token and returns its subject.
func (t *Tokens) Parse(token string) (string, error) {
	var claims jwt.RegisteredClaims
	_, err := t.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		return "", &Error{Code: CodeUnauthenticated, Message: errBadToken.Message, Err: err}
	}
	if claims.Subject == "" {
		return "", &Error{Code: CodeUnauthenticated, Message: errBadToken.Message, Err: errors.New("token without sub")}
	}
	return claims.Subject, nil
}
