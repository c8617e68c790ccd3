// Sessions as a front end lives them, through the very factories
// docs/clients.md shows (Apollo Client and urql over src/session.js): an
// access token that expires mid-session is refreshed once and the
// operation retried, without the caller seeing an error; concurrent
// requests share one refresh; a session that is over (its refresh token
// reused, or logged out elsewhere) logs the client out; a refresh that
// cannot reach the server keeps the tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { CombinedGraphQLErrors } from '@apollo/client';
import { parse } from 'graphql';

import { createApolloClient } from '../src/apollo.js';
import { createSession } from '../src/session.js';
import { createUrqlClient } from '../src/urql.js';
import { GRAPHQL, createTasks, expired, gql, signUp } from './helpers.js';

// Every GraphQL request sent, by operation name, with the token it carried.
const sent = [];
const realFetch = globalThis.fetch;
before(() => {
  globalThis.fetch = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    const auth = new Headers(init.headers).get('authorization');
    sent.push({
      op: body?.operationName ?? url.searchParams.get('operationName'),
      token: auth?.slice('Bearer '.length) ?? null,
    });
    return realFetch(input, init);
  };
});
after(() => { globalThis.fetch = realFetch; });

const ME = parse('query Me { me { id username } }');
const TASK = parse('query Task($id: ID!) { task(id: $id) { id title } }');
const LOGIN = parse('mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }');

// Each client as a caller uses it: run resolves to the data or rejects with
// the GraphQL error codes, always from the network.
const clients = {
  'Apollo Client': {
    make: (session) => createApolloClient(GRAPHQL, session),
    async run(client, document, variables = {}) {
      const isMutation = document.definitions[0].operation === 'mutation';
      try {
        const { data } = isMutation
          ? await client.mutate({ mutation: document, variables })
          : await client.query({ query: document, variables, fetchPolicy: 'network-only' });
        return data;
      } catch (err) {
        if (CombinedGraphQLErrors.is(err)) throw new Codes(err.errors);
        throw err;
      }
    },
  },
  urql: {
    make: (session) => createUrqlClient(GRAPHQL, session),
    async run(client, document, variables = {}) {
      const isMutation = document.definitions[0].operation === 'mutation';
      const result = isMutation
        ? await client.mutation(document, variables).toPromise()
        : await client.query(document, variables, { requestPolicy: 'network-only' }).toPromise();
      if (result.error?.graphQLErrors.length) throw new Codes(result.error.graphQLErrors);
      if (result.error) throw result.error;
      return result.data;
    },
  },
};

class Codes extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.codes = errors.map((e) => e.extensions?.code);
  }
}

async function codesOf(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Codes, `want GraphQL errors, got ${err}`);
    return err.codes;
  }
  assert.fail('the call succeeded');
}

// since is what was sent from mark on.
const mark = () => sent.length;
const since = (from) => sent.slice(from);
const ops = (requests) => requests.map((r) => r.op);

// meWith is what the server answers to `me` with token (bare fetch).
async function meWith(token) {
  try {
    return (await gql('{ me { id } }', {}, token)).me.id;
  } catch (err) {
    return err.message.includes('"UNAUTHENTICATED"') ? 'UNAUTHENTICATED' : err.message;
  }
}

for (const [name, { make, run }] of Object.entries(clients)) {
  describe(`${name} refreshing its session`, () => {
    // loggedIn is a fresh user whose login the client's session holds, as
    // the client holds it: an accessToken that expired while the client
    // believed it valid (expiredEarly), or one the client knows expired.
    // sessionUri is where the session sends its refreshes.
    async function loggedIn({ expiredEarly = false, knownExpired = false, sessionUri = GRAPHQL } = {}) {
      const user = await signUp(name === 'urql' ? 'grace' : 'ada');
      const logouts = [];
      const session = createSession(sessionUri, { onLogout: () => logouts.push(Date.now()) });
      session.set({
        ...user.payload,
        accessToken: expiredEarly ? expired(user.payload.accessToken) : user.payload.accessToken,
        expiresIn: knownExpired ? 0 : user.payload.expiresIn,
      });
      return { user, session, logouts, client: make(session) };
    }

    it('refreshes an access token that expired mid-session, retries once, and answers', async () => {
      const { user, session, logouts, client } = await loggedIn({ expiredEarly: true });
      const stale = session.accessToken;
      const from = mark();
      const { me } = await run(client, ME);
      assert.equal(me.id, user.id);
      // The server refused the expired token; one refresh; the same query again.
      const requests = since(from);
      assert.deepEqual(ops(requests), ['Me', 'Refresh', 'Me']);
      assert.equal(requests[0].token, stale);
      assert.notEqual(session.accessToken, stale);
      assert.equal(requests[2].token, session.accessToken);
      assert.equal(await meWith(session.accessToken), user.id);
      assert.deepEqual(logouts, []);
    });

    it('refreshes a token it knows expired before sending the request', async () => {
      const { user, session, client } = await loggedIn({ knownExpired: true });
      const from = mark();
      const { me } = await run(client, ME);
      assert.equal(me.id, user.id);
      assert.deepEqual(ops(since(from)), ['Refresh', 'Me']);
      assert.equal(since(from)[1].token, session.accessToken);
      assert.equal(session.expired(), false);
    });

    for (const how of ['expiredEarly', 'knownExpired']) {
      it(`shares one refresh between concurrent requests (${how})`, async () => {
        const { user, session, logouts, client } = await loggedIn({ [how]: true });
        const ids = await createTasks(user.payload.accessToken, ['one', 'two', 'three', 'four', 'five']);
        const from = mark();
        const tasks = await Promise.all(ids.map((id) => run(client, TASK, { id })));
        assert.deepEqual(tasks.map((t) => t.task.id), ids);
        const requests = since(from);
        assert.equal(ops(requests).filter((op) => op === 'Refresh').length, 1, `requests: ${ops(requests)}`);
        // Every task was read with the new token, exactly once.
        const fresh = requests.filter((r) => r.op === 'Task' && r.token === session.accessToken);
        assert.equal(fresh.length, ids.length);
        assert.deepEqual(logouts, []);
      });
    }

    it('logs out when its refresh token was already used: the session is over', async () => {
      const { user, session, logouts, client } = await loggedIn({ expiredEarly: true });
      // Someone else (a copy of the refresh token) refreshed first.
      const { refreshToken: theirs } = await gql(
        'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }',
        { t: user.payload.refreshToken },
      );
      const from = mark();
      assert.deepEqual(await codesOf(run(client, ME)), ['UNAUTHENTICATED']);
      assert.equal(ops(since(from)).filter((op) => op === 'Refresh').length, 1);
      assert.equal(logouts.length, 1);
      assert.equal(session.accessToken, null);
      // Reuse ended the whole session: the other holder's token too.
      assert.equal(await meWith(theirs.accessToken), 'UNAUTHENTICATED');
    });

    it('logs out when the session was ended elsewhere', async () => {
      const { user, session, logouts, client } = await loggedIn();
      assert.equal((await run(client, ME)).me.id, user.id);
      await gql('mutation { logout }', {}, user.payload.accessToken);
      const from = mark();
      assert.deepEqual(await codesOf(run(client, ME)), ['UNAUTHENTICATED']);
      assert.equal(ops(since(from)).filter((op) => op === 'Refresh').length, 1);
      assert.equal(logouts.length, 1);
      assert.equal(session.accessToken, null);
      // Logged out, the client still works for public operations.
      assert.deepEqual(await codesOf(run(client, LOGIN, { email: user.email, password: 'wrong!pw1' })), ['UNAUTHENTICATED']);
    });

    it('keeps the tokens when a refresh cannot reach the server: they refresh once it can', async () => {
      // The refreshes go to a port nothing listens on; the rest to taskapi.
      const { user, session, logouts, client } = await loggedIn({ expiredEarly: true, sessionUri: 'http://127.0.0.1:9/graphql' });
      const stale = session.accessToken;
      await assert.rejects(run(client, ME), (err) => !(err instanceof Codes));
      assert.equal(session.accessToken, stale);
      assert.deepEqual(logouts, []);
      // The refresh token was not spent: once the server is reachable, it refreshes.
      const back = createSession(GRAPHQL);
      back.set({ ...user.payload, accessToken: stale });
      assert.equal((await run(make(back), ME)).me.id, user.id);
      assert.notEqual(back.accessToken, stale);
    });

    it('does not refresh when a login is refused for a wrong password', async () => {
      const { user, session, logouts, client } = await loggedIn();
      const before = session.accessToken;
      const from = mark();
      assert.deepEqual(await codesOf(run(client, LOGIN, { email: user.email, password: 'wrong!pw1' })), ['UNAUTHENTICATED']);
      assert.deepEqual(ops(since(from)), ['Login']);
      assert.equal(session.accessToken, before);
      assert.deepEqual(logouts, []);
    });
  });
}
