import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { defer, from, map, of, switchMap } from 'rxjs';

import { isUnauthenticated, refreshable } from './session.js';

// createApolloClient connects Apollo Client to taskapi. uri is the GraphQL
// endpoint, e.g. 'https://api.example.com/graphql'; session is a
// createSession(uri, …) holding the tokens of the login mutation.
export function createApolloClient(uri, session) {
  return new ApolloClient({
    link: sessionLink(session).concat(new HttpLink({ uri })),
    cache: new InMemoryCache({
      typePolicies: {
        // One list per status, order and search; fetchMore({ variables:
        // { after } }) appends the next page to it, and taskListsUpdate
        // (apollo-lists.js) keeps it right after task mutations.
        Query: {
          fields: {
            tasks: relayStylePagination(['status', 'orderBy', 'search']),
            // task(id) is the Task:<id> the cache holds, when it holds it.
            task: { read: (_, { args, toReference }) => toReference({ __typename: 'Task', id: args.id }) },
          },
        },
      },
    }),
  });
}

// sessionLink sends the access token, refreshing it first when it has
// expired; when the server still answers UNAUTHENTICATED (the token expired
// early by the client's clock, or the session ended), it refreshes and
// retries the operation once. If the refresh is refused, the session is
// cleared and the caller gets the UNAUTHENTICATED answer.
function sessionLink(session) {
  return new ApolloLink((operation, forward) => {
    const send = () => defer(() => {
      const token = session.accessToken;
      operation.setContext(({ headers }) => ({
        headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
      }));
      return forward(operation).pipe(map((result) => ({ result, token })));
    });
    return defer(() => (session.expired() ? session.refresh(session.accessToken) : of(true))).pipe(
      switchMap(send),
      switchMap(({ result, token }) => {
        if (!token || !isUnauthenticated(result.errors) || !refreshable(operation.query)) return of(result);
        return from(session.refresh(token)).pipe(
          switchMap((again) => (again ? send().pipe(map((retried) => retried.result)) : of(result))),
        );
      }),
    );
  });
}
