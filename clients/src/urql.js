import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { authExchange } from '@urql/exchange-auth';

import { isUnauthenticated, refreshable } from './session.js';

// createUrqlClient connects urql to taskapi. url is the GraphQL endpoint,
// e.g. 'https://api.example.com/graphql'; session is a createSession(url, …)
// holding the tokens of the login mutation. Queries go out as GET (urql's
// default while the URL is short enough), mutations as POST.
export function createUrqlClient(url, session) {
  return new Client({
    url,
    exchanges: [cacheExchange, sessionExchange(session), fetchExchange],
  });
}

// sessionExchange sends the access token, refreshing it first when it has
// expired; when the server still answers UNAUTHENTICATED, it refreshes and
// retries the operation once (authExchange holds the other operations until
// the refresh is over). If the refresh is refused, the session is cleared
// and the caller gets the UNAUTHENTICATED answer.
export function sessionExchange(session) {
  return authExchange(async (utils) => {
    let stale = null; // the access token of the operation that asks for a refresh
    return {
      addAuthToOperation(operation) {
        const token = session.accessToken;
        return token ? utils.appendHeaders(operation, { authorization: `Bearer ${token}` }) : operation;
      },
      willAuthError() {
        if (!session.expired()) return false;
        stale = session.accessToken;
        return true;
      },
      didAuthError(error, operation) {
        if (!isUnauthenticated(error.graphQLErrors) || !refreshable(operation.query)) return false;
        stale = operation.context.fetchOptions?.headers?.authorization?.slice('Bearer '.length) ?? null;
        return stale !== null;
      },
      async refreshAuth() {
        await session.refresh(stale);
      },
    };
  });
}
