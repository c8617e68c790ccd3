package core

import (
	"context"
	"errors"
	"time"
)

// The session use cases: login starts a session (Service.Login), refresh
// rotates its refresh token, logout ends it; see session.go for the model.

var (
	errBadRefresh      = &Error{Code: CodeUnauthenticated, Message: "Invalid or expired refresh token"}
	errRefreshReused   = &Error{Code: CodeUnauthenticated, Message: "Refresh token already used: the session has been ended"}
	errSessionNotFound = &Error{Code: CodeNotFound, Message: "Session not found"}
	errWrongPassword   = &Error{Code: CodeUnauthenticated, Message: "Incorrect password"}
	errSamePassword    = Invalid(FieldError{Field: "newPassword", Kind: KindWeak, Reason: "The new password must differ from the current one"})
)

// startSession begins a session of u (who just proved their password) and
// returns its tokens.
func (s *Service) startSession(ctx context.Context, u User) (AuthPayload, error) {
	now := s.now()
	st := state(ctx)
	sess := Session{
		ID: newSessionID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.sessTTL),
		UserAgent: truncate(st.userAgent), IPAddress: st.clientIP,
	}
	refresh, hash := newRefreshSecret(sess.ID)
	sess.RefreshHash = hash
	until := sess.until(s.idleTTL)
	set, err := s.store.WriteSessions(ctx, u.ID, SessionWrite{Put: &sess, Current: &u.Sessions, Change: func(set SessionSet) (SessionSet, []string) {
		return set.With(sess.ID, until, now)
	}})
	if err != nil {
		return AuthPayload{}, notFound(err, errBadLogin)
	}
	u.Sessions = set
	s.sessionEvent(SessionLogin)
	return s.payload(u, sess, refresh, until, now)
}

func (s *Service) payload(u User, sess Session, refresh string, until, now time.Time) (AuthPayload, error) {
	tok, err := s.tokens.Issue(u.ID, sess.ID)
	if err != nil {
		return AuthPayload{}, err
	}
	return AuthPayload{
		AccessToken: tok, TokenType: "bearer", ExpiresIn: int(s.tokens.TTL().Seconds()),
		RefreshToken: refresh, RefreshExpiresIn: int(until.Sub(now).Seconds()),
		User: u,
	}, nil
}

// Refresh exchanges a refresh token for a new pair: the token presented
// stops working (rotation). Presenting one that was already used ends the
// whole session, every token of it: one of the two holders is not its
// owner. Anything else that is not a current refresh token of a live
// session is refused and changes nothing.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (AuthPayload, error) {
	id, secret, ok := parseRefreshToken(refreshToken)
	if !ok {
		return AuthPayload{}, errBadRefresh
	}
	sess, err := s.store.GetSession(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return AuthPayload{}, errBadRefresh
	} else if err != nil {
		return AuthPayload{}, err
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	now := s.now()
	switch {
	case errors.Is(err, ErrNotFound):
		return AuthPayload{}, errBadRefresh
	case err != nil:
		return AuthPayload{}, err
	case !u.Sessions.Live(id, now) || !now.Before(sess.until(s.idleTTL)):
		return AuthPayload{}, errBadRefresh
	case !u.IsActive():
		return AuthPayload{}, &Error{Code: CodeUnauthenticated, Message: "Inactive user"}
	case !secretMatches(secret, sess.RefreshHash):
		s.endSessions(ctx, u.ID, id)
		s.log.WarnContext(ctx, "refresh token reused: session ended", "user_id", u.ID, "session_id", id)
		s.sessionEvent(SessionRefreshReused)
		return AuthPayload{}, errRefreshReused
	}
	oldHash := sess.RefreshHash
	refresh, hash := newRefreshSecret(id)
	sess.RefreshHash, sess.LastUsedAt, sess.IPAddress = hash, now, state(ctx).clientIP
	if ua := state(ctx).userAgent; ua != "" {
		sess.UserAgent = truncate(ua)
	}
	until := sess.until(s.idleTTL)
	u.Sessions, err = s.store.WriteSessions(ctx, u.ID, SessionWrite{Put: &sess, IfHash: oldHash, Current: &u.Sessions, Change: func(set SessionSet) (SessionSet, []string) {
		if !set.Live(id, now) {
			return set, nil
		}
		return set.With(id, until, now)
	}})
	switch {
	case errors.Is(err, ErrPrecondition):
		// The same token was used at the same moment by someone else.
		s.endSessions(ctx, sess.UserID, id)
		s.sessionEvent(SessionRefreshReused)
		return AuthPayload{}, errRefreshReused
	case errors.Is(err, ErrNotFound):
		return AuthPayload{}, errBadRefresh
	case err != nil:
		return AuthPayload{}, err
	}
	if !u.Sessions.Live(id, now) { // ended while we rotated
		return AuthPayload{}, errBadRefresh
	}
	s.sessionEvent(SessionRefresh)
	return s.payload(u, sess, refresh, until, now)
}

// endSessions ends sessions ids of user userID; failures are logged (the
// caller's answer does not depend on them).
func (s *Service) endSessions(ctx context.Context, userID string, ids ...string) {
	now := s.now()
	_, err := s.store.WriteSessions(context.WithoutCancel(ctx), userID, SessionWrite{Change: func(set SessionSet) (SessionSet, []string) {
		return set.Without(now, ids...), ids
	}})
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.ErrorContext(ctx, "ending sessions failed", "user_id", userID, "err", err)
	}
}

// Logout ends the caller's session: its access and refresh tokens stop
// working on the next request. A token without a session (legacy) has
// nothing to end but itself: every legacy token of the user ends.
func (s *Service) Logout(ctx context.Context) error {
	u, err := s.Actor(ctx)
	if err != nil {
		return err
	}
	id := state(ctx).sessionID
	now := s.now()
	_, err = s.store.WriteSessions(ctx, u.ID, SessionWrite{Current: &u.Sessions, Change: func(set SessionSet) (SessionSet, []string) {
		if id == "" {
			return endLegacy(set, now), nil
		}
		return set.Without(now, id), []string{id}
	}})
	if err == nil {
		s.sessionEvent(SessionLogout)
	}
	return err
}

// endLegacy refuses the legacy tokens issued before now, keeping the
// sessions.
func endLegacy(set SessionSet, now time.Time) SessionSet {
	validAfter, entries := set.decode()
	return encodeSet(max(validAfter, now.UnixMilli()), entries)
}

// LogoutEverywhere ends every session of the caller.
func (s *Service) LogoutEverywhere(ctx context.Context) error {
	u, err := s.Actor(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	_, err = s.store.WriteSessions(ctx, u.ID, SessionWrite{Current: &u.Sessions, Change: func(set SessionSet) (SessionSet, []string) {
		return set.EndAll(now), set.IDs(time.Time{})
	}})
	if err == nil {
		s.sessionEvent(SessionLogoutEverywhere)
	}
	return err
}

// ChangePassword checks the caller's current password (rate-limited as a
// login), applies the password rules to the new one, ends every session of
// the caller (every other device must log in again) and starts a new one,
// whose tokens it returns.
func (s *Service) ChangePassword(ctx context.Context, current, next string) (AuthPayload, error) {
	u, err := s.Actor(ctx)
	if err != nil {
		return AuthPayload{}, err
	}
	if err := s.limiter.login(ctx, string(u.Email.Key())); err != nil {
		return AuthPayload{}, err
	}
	pw, fe := ParsePassword("newPassword", next)
	if fe != nil {
		return AuthPayload{}, Invalid(*fe)
	}
	if len(current) > 4*MaxPasswordLen {
		return AuthPayload{}, errWrongPassword
	}
	stored, err := s.passwordHash(ctx, u)
	if err != nil {
		return AuthPayload{}, err
	}
	ok, err := s.hasher.Verify(ctx, current, stored)
	if err != nil {
		return AuthPayload{}, err
	}
	if !ok {
		return AuthPayload{}, errWrongPassword
	}
	if current == next {
		return AuthPayload{}, errSamePassword
	}
	hash, err := s.hasher.Hash(ctx, pw.Reveal())
	if err != nil {
		return AuthPayload{}, err
	}
	u, err = s.store.UpdateUser(ctx, u.ID, UserPatch{PasswordHash: &hash, EndSessionsAt: s.now()})
	if err != nil {
		return AuthPayload{}, notFound(err, errUserNotFound)
	}
	return s.startSession(ctx, u)
}

// Sessions lists user userID's live sessions, newest first: the user
// themself, or an admin. No token or hash is part of a Session's answer.
func (s *Service) Sessions(ctx context.Context, userID string) ([]Session, error) {
	actor, err := s.Actor(ctx)
	if err != nil {
		return nil, err
	}
	u := actor
	if userID != actor.ID {
		if !actor.IsAdmin() {
			return nil, &Error{Code: CodeForbidden, Message: "Sessions are private to their owner"}
		}
		if u, err = s.getUser(ctx, userID); err != nil {
			return nil, notFound(err, errUserNotFound)
		}
	}
	ids := u.Sessions.IDs(s.now())
	if len(ids) == 0 {
		return []Session{}, nil
	}
	list, err := s.store.GetSessions(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Session, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		sess := list[i]
		sess.RefreshHash = ""
		out = append(out, sess)
	}
	return out, nil
}

// CurrentSession is the id of the session the request's token belongs to
// ("" without one).
func (s *Service) CurrentSession(ctx context.Context) string {
	if _, err := s.Actor(ctx); err != nil {
		return ""
	}
	return state(ctx).sessionID
}

// RevokeSession ends session id: one of the caller's, or, for an admin,
// anyone's. Anything else is "not found", whether it exists or not.
func (s *Service) RevokeSession(ctx context.Context, id string) error {
	actor, err := s.Actor(ctx)
	if err != nil {
		return err
	}
	sess, err := s.store.GetSession(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && sess.UserID != actor.ID && !actor.IsAdmin()) {
		return errSessionNotFound
	} else if err != nil {
		return err
	}
	now := s.now()
	_, err = s.store.WriteSessions(ctx, sess.UserID, SessionWrite{Change: func(set SessionSet) (SessionSet, []string) {
		return set.Without(now, id), []string{id}
	}})
	if err == nil {
		s.sessionEvent(SessionRevoked)
	}
	return notFound(err, errSessionNotFound)
}
