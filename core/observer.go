package core

// Observer is told of the events an operator counts (internal/metrics
// implements it with Prometheus). Core calls it where it decides, so each
// event is counted once whatever the transport. A nil Observer (the
// default) costs a nil check.
type Observer interface {
	// RateLimited: a request was refused (or, for LimitLoginEmail,
	// slowed) by the limit named.
	RateLimited(limit string)
	// LoginFailed: a login was refused for reason, one of the
	// LoginFailure* values.
	LoginFailed(reason string)
}

// Limit names, as RATE_LIMIT_* names them (README).
const (
	LimitLogin        = "login"         // RATE_LIMIT_LOGIN: attempts from one address
	LimitLoginAccount = "login_account" // RATE_LIMIT_LOGIN_ACCOUNT
	LimitLoginEmail   = "login_email"   // RATE_LIMIT_LOGIN_EMAIL: slows, never refuses
	LimitRegister     = "register"      // RATE_LIMIT_REGISTER
	LimitRegisterAll  = "register_all"  // RATE_LIMIT_REGISTER_ALL
	LimitWrites       = "writes"        // RATE_LIMIT_WRITES
)

// Reasons a login fails (Observer.LoginFailed). A refusal by a rate limit
// is counted as RateLimited instead.
const (
	LoginFailureCredentials   = "bad_credentials" // unknown email or wrong password
	LoginFailureInactive      = "inactive"
	LoginFailurePasswordReset = "password_reset_required"
)
