// Package hardening holds taskapi's cross-cutting reliability and security
// tests (docs/reliability.md): fuzzing of everything a client controls
// (REST bodies, GraphQL requests, pagination cursors, bearer tokens); an
// authentication and authorization battery over both APIs; query abuse,
// hostile documents (CPU per request), oversized bodies and slow clients
// refused cheaply; rate limits from many addresses; floods that try to fill
// Redis or evict the limits; the pages' CSP; DynamoDB and Redis
// failing under load; a mixed load test audited against the store; and no
// secret in any log line. Every test drives the one handler of server.New,
// over each store: the embedded one always, DynamoDB Local and the Redis
// cache when they are available (and always in the full suite). It has no
// non-test code.
package hardening
