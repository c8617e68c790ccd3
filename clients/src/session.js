// createSession keeps the tokens of one login and refreshes them. uri is
// the GraphQL endpoint; onLogout runs when the session is over (its refresh
// token was refused: logged out elsewhere, revoked, reused or expired).
// Call set() with the AuthPayload of login, refreshToken or changePassword.
export function createSession(uri, { onLogout = () => {} } = {}) {
  let tokens = null; // { accessToken, refreshToken, expiresAt (ms) }
  let refreshing = null; // the refresh under way, shared by every caller

  const session = {
    get accessToken() { return tokens?.accessToken ?? null; },

    set({ accessToken, refreshToken, expiresIn }) {
      tokens = { accessToken, refreshToken, expiresAt: Date.now() + expiresIn * 1000 };
    },

    clear() { tokens = null; },

    // expired: the access token is past (or within 10 s of) its expiry.
    expired() { return tokens !== null && Date.now() > tokens.expiresAt - 10_000; },

    // refresh exchanges the refresh token for a new pair, once however
    // many requests ask at the same time: a refresh token is single-use,
    // and presenting it twice ends the session. stale is the access token
    // the caller's request carried; if the pair has changed since, another
    // request already refreshed it. Resolves to whether there is a pair to
    // retry with; rejects (keeping the tokens) when the server was not reached.
    refresh(stale) {
      if (refreshing) return refreshing;
      if (tokens === null) return Promise.resolve(false);
      if (tokens.accessToken !== stale) return Promise.resolve(true);
      const used = tokens.refreshToken;
      refreshing = exchange(uri, used).then((payload) => {
        if (tokens?.refreshToken !== used) return tokens !== null; // logged in or out meanwhile
        if (payload) {
          session.set(payload);
          return true;
        }
        tokens = null;
        onLogout();
        return false;
      }).finally(() => { refreshing = null; });
      return refreshing;
    },
  };
  return session;
}

const REFRESH = `mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { accessToken refreshToken expiresIn }
}`;

// exchange asks for a new pair: the payload, or null when the server
// refused the refresh token (UNAUTHENTICATED).
async function exchange(uri, refreshToken) {
  const res = await fetch(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: REFRESH, operationName: 'Refresh', variables: { refreshToken } }),
  });
  const body = await res.json();
  if (body.data?.refreshToken) return body.data.refreshToken;
  if (isUnauthenticated(body.errors)) return null;
  throw new Error(`refreshToken failed: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
}

export function isUnauthenticated(errors) {
  return Boolean(errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED'));
}

// CREDENTIAL_FIELDS answer UNAUTHENTICATED for a wrong password or refresh
// token in their arguments, not for a stale access token: never refreshed
// and retried (a retry would count against the login rate limit).
const CREDENTIAL_FIELDS = new Set(['login', 'refreshToken', 'changePassword', 'deleteAccount']);

// refreshable reports whether an UNAUTHENTICATED answer to document may
// mean that its access token expired or its session ended.
export function refreshable(document) {
  return !document.definitions.some((d) => d.kind === 'OperationDefinition' &&
    d.selectionSet.selections.some((s) => s.kind === 'Field' && CREDENTIAL_FIELDS.has(s.name.value)));
}
