import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { relayStylePagination } from '@apollo/client/utilities';

// createApolloClient connects Apollo Client to taskapi. uri is the GraphQL
// endpoint, e.g. 'https://api.example.com/graphql'; getToken returns the
// accessToken from the login mutation, or null when logged out.
export function createApolloClient(uri, getToken) {
  const auth = new SetContextLink(({ headers }) => {
    const token = getToken();
    return { headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers };
  });
  return new ApolloClient({
    link: auth.concat(new HttpLink({ uri })),
    cache: new InMemoryCache({
      typePolicies: {
        // One list per status filter; fetchMore({ variables: { after } })
        // appends the next page to it.
        Query: { fields: { tasks: relayStylePagination(['status']) } },
      },
    }),
  });
}
