import { Client, cacheExchange, fetchExchange } from '@urql/core';

// createUrqlClient connects urql to taskapi. url is the GraphQL endpoint,
// e.g. 'https://api.example.com/graphql'; getToken returns the accessToken
// from the login mutation, or null when logged out. Queries go out as GET
// (urql's default while the URL is short enough), mutations as POST.
export function createUrqlClient(url, getToken) {
  return new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: () => {
      const token = getToken();
      return token ? { headers: { authorization: `Bearer ${token}` } } : {};
    },
  });
}
