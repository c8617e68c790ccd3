package core

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime"

	"github.com/alexedwards/argon2id"
	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"
)

// Hasher hashes and checks passwords with argon2id (OWASP's minimum
// parameters: 19 MiB, 2 passes, 1 lane). When a pepper is set (the legacy
// PASS_SECRET_KEY), the password is first keyed with HMAC-SHA256 so a leaked
// table alone cannot be attacked offline. Each hash costs ~19 MiB and tens of
// milliseconds, so at most a few run at once: a login storm queues instead of
// starving reads or exhausting memory.
type Hasher struct {
	params *argon2id.Params
	pepper []byte
	sem    *semaphore.Weighted
	dummy  string // a hash no password matches, checked when the email is unknown
}

// OWASPParams are argon2id's recommended minimum parameters.
var OWASPParams = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// DefaultHashConcurrency is how many hashes run at once by default: half
// the CPUs (at least one). A login storm then queues on the other half's
// worth of work instead of taking every core from the reads (the benchmark
// suite measures both: docs/performance.md), and holds at most that many
// 19 MiB buffers.
func DefaultHashConcurrency() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// NewHasher returns a Hasher. params nil means OWASPParams; maxConcurrent
// <= 0 means DefaultHashConcurrency.
func NewHasher(pepper string, params *argon2id.Params, maxConcurrent int) *Hasher {
	if params == nil {
		p := OWASPParams
		params = &p
	}
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultHashConcurrency()
	}
	h := &Hasher{params: params, sem: semaphore.NewWeighted(int64(maxConcurrent)), dummy: dummyHash(params)}
	if pepper != "" {
		h.pepper = []byte(pepper)
	}
	return h
}

// dummyHash is a PHC string with params, a random salt and a key no
// password produces: checking a password against it costs exactly what
// checking against a real hash costs, and always fails. It is built, not
// hashed, so a cold start pays no argon2id.
func dummyHash(p *argon2id.Params) string {
	salt := make([]byte, p.SaltLength)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (it crashes the program instead)
	key := make([]byte, p.KeyLength)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Iterations, p.Parallelism, b64(salt), b64(key))
}

func (h *Hasher) key(password string) string {
	if h.pepper == nil {
		return password
	}
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(password))
	return hex.EncodeToString(m.Sum(nil))
}

// Hash returns the PHC string of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.sem.Acquire(ctx, 1); err != nil {
		return "", err
	}
	defer h.sem.Release(1)
	return argon2id.CreateHash(h.key(password), h.params)
}

// Verify reports whether password matches hash. An empty hash is checked
// against a dummy, so an unknown email costs as much as a wrong password.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	if err := h.sem.Acquire(ctx, 1); err != nil {
		return false, err
	}
	defer h.sem.Release(1)
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(h.key(password), h.dummy)
		return false, nil
	}
	return argon2id.ComparePasswordAndHash(h.key(password), hash)
}
