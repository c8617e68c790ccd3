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
	// SessionEvent: a session started, was refreshed or ended; event is
	// one of the Session* values.
	SessionEvent(event string)
	// Subscriptions: delta subscriptions of kind (SubscriptionTasks,
	// SubscriptionUsers) opened (+1) or ended (-1) in this process.
	Subscriptions(kind string, delta int)
}

// What happens to sessions (Observer.SessionEvent).
const (
	SessionLogin            = "login"             // a login or a password change started one
	SessionRefresh          = "refresh"           // its refresh token was rotated
	SessionLogout           = "logout"            // its user logged it out
	SessionLogoutEverywhere = "logout_everywhere" // its user ended every one
	SessionRevoked          = "revoked"           // revokeSession ended it
	SessionRefreshReused    = "refresh_reuse"     // a used refresh token came back: it was ended
)

// Kinds of subscriptions (Observer.Subscriptions).
const (
	SubscriptionTasks = "task_events"
	SubscriptionUsers = "user_events"
)

// sessionEvent tells the Observer, if any.
func (s *Service) sessionEvent(event string) {
	if s.obs != nil {
		s.obs.SessionEvent(event)
	}
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
