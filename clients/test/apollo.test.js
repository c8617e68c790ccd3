// Apollo Client (core, normalized InMemoryCache) against a running taskapi,
// through the very client factory docs/clients.md shows.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { CombinedGraphQLErrors, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

import { createApolloClient } from '../src/apollo.js';
import { createSession } from '../src/session.js';
import { GRAPHQL, PASSWORD, createTasks, signUp, uniqueEmail } from './helpers.js';

// Every request the clients send, as the server saw it asked.
const sent = [];
const realFetch = globalThis.fetch;
before(() => {
  globalThis.fetch = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    const record = { method: init.method ?? 'GET', url, body, headers: new Headers(init.headers) };
    sent.push(record);
    const res = await realFetch(input, init);
    record.status = res.status;
    return res;
  };
});
after(() => { globalThis.fetch = realFetch; });

const REGISTER = gql`
  mutation Register($in: RegisterInput!) {
    register(input: $in) { id username email role }
  }
`;
const LOGIN = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken expiresIn tokenType user { id username } }
  }
`;
const CREATE_TASK = gql`
  mutation CreateTask($in: CreateTaskInput!) {
    createTask(input: $in) { id title status }
  }
`;
const TASKS = gql`
  query Tasks($first: Int, $after: String) {
    tasks(first: $first, after: $after) {
      totalCount
      edges { cursor node { id title status updatedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const UPDATE_TASK = gql`
  mutation UpdateTask($id: ID!, $in: UpdateTaskInput!) {
    updateTask(id: $id, input: $in) { id status updatedAt }
  }
`;
const DELETE_TASK = gql`
  mutation DeleteTask($id: ID!) { deleteTask(id: $id) }
`;
const ME = gql`query Me { me { id username stats { pending ongoing complete total } } }`;

// watch keeps one subscription to an ObservableQuery (as a UI component
// would) and lets a test wait for the first result, from now on, that
// satisfies ok.
function watch(observable) {
  const waiters = new Set();
  const subscription = observable.subscribe({
    next(result) {
      for (const w of waiters) {
        if (result.data && w.ok(result)) {
          waiters.delete(w);
          w.resolve(result);
        }
      }
    },
  });
  return {
    observable,
    next(ok) {
      return new Promise((resolve, reject) => {
        const w = { ok, resolve };
        waiters.add(w);
        setTimeout(() => { waiters.delete(w); reject(new Error('no such result within 5s')); }, 5000).unref();
      });
    },
    stop() { subscription.unsubscribe(); },
  };
}

// codeOf is the extensions.code of the first GraphQL error of a failed call.
async function codeOf(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(CombinedGraphQLErrors.is(err), `want GraphQL errors, got ${err}`);
    return err.errors[0].extensions.code;
  }
  assert.fail('the call succeeded');
}

describe('Apollo Client', () => {
  const session = createSession(GRAPHQL);
  const client = createApolloClient(GRAPHQL, session);
  const email = uniqueEmail('apollo');
  const titles = ['Plan the sprint', 'Write the tests', 'Fix the build', 'Review the PR', 'Ship it'];
  let tasks = []; // { id, title }

  it('registers and logs in', async () => {
    const { data: { register } } = await client.mutate({
      mutation: REGISTER, variables: { in: { username: 'ada', email, password: PASSWORD } },
    });
    assert.equal(register.email, email);
    assert.equal(register.role, 'USER');
    const { data: { login } } = await client.mutate({ mutation: LOGIN, variables: { email, password: PASSWORD } });
    assert.equal(login.tokenType, 'bearer');
    assert.equal(login.user.id, register.id);
    session.set(login);
    // Apollo asks for the GraphQL-over-HTTP media type first.
    const last = sent.at(-1);
    assert.equal(last.method, 'POST');
    assert.match(last.headers.get('accept'), /^application\/graphql-response\+json/);
  });

  it('creates tasks', async () => {
    for (const title of titles) {
      const { data: { createTask } } = await client.mutate({ mutation: CREATE_TASK, variables: { in: { title } } });
      assert.equal(createTask.title, title);
      assert.equal(createTask.status, 'PENDING');
      tasks.push(createTask);
    }
    assert.equal(sent.at(-1).headers.get('authorization'), `Bearer ${session.accessToken}`);
  });

  let list; // the watched tasks query
  it('pages through tasks with cursors (fetchMore, relayStylePagination)', async () => {
    const first = watch(client.watchQuery({ query: TASKS, variables: { first: 2 } }));
    list = first;
    let { data } = await first.next(() => true);
    assert.equal(data.tasks.edges.length, 2);
    assert.equal(data.tasks.totalCount, titles.length);
    let pages = 1;
    while (data.tasks.pageInfo.hasNextPage) {
      const after = data.tasks.pageInfo.endCursor;
      assert.equal(after, data.tasks.edges.at(-1).cursor);
      const had = data.tasks.edges.length;
      const grown = list.next((r) => r.data.tasks.edges.length > had);
      const page = await list.observable.fetchMore({ variables: { after } });
      assert.ok(page.data.tasks.edges.length <= 2);
      ({ data } = await grown);
      pages++;
      assert.ok(pages <= 3, 'more pages than 5 tasks in pages of 2 make');
    }
    assert.equal(pages, 3);
    // The cache merged the three pages into one list, oldest first.
    assert.deepEqual(data.tasks.edges.map((e) => e.node.title), titles);
    assert.equal(new Set(data.tasks.edges.map((e) => e.cursor)).size, titles.length);
    const afters = sent.filter((r) => r.body?.operationName === 'Tasks').map((r) => r.body.variables.after);
    assert.deepEqual(afters.length, 3);
    assert.equal(afters[0], undefined);
  });

  it('updates a status, and the cached list changes through normalization', async () => {
    const target = tasks[1];
    const before = sent.length;
    const changed = list.next((r) => r.data.tasks.edges[1].node.status === 'ONGOING');
    const { data: { updateTask } } = await client.mutate({
      mutation: UPDATE_TASK, variables: { id: target.id, in: { status: 'ONGOING' } },
    });
    assert.equal(updateTask.status, 'ONGOING');
    // The watched list saw it without asking the server again: the mutation
    // answer updated the one normalized Task object both share.
    const { data } = await changed;
    assert.equal(data.tasks.edges[1].node.id, target.id);
    assert.equal(data.tasks.edges[1].node.updatedAt, updateTask.updatedAt);
    assert.equal(client.cache.extract()[`Task:${target.id}`].status, 'ONGOING');
    assert.deepEqual(sent.slice(before).map((r) => r.body?.operationName), ['UpdateTask']);
  });

  it('deletes a task and evicts it from the cache', async () => {
    const target = tasks[0];
    const gone = list.next((r) => r.data.tasks.edges.length === titles.length - 1);
    const { data: { deleteTask } } = await client.mutate({
      mutation: DELETE_TASK,
      variables: { id: target.id },
      update(cache, { data }) {
        cache.evict({ id: cache.identify({ __typename: 'Task', id: data.deleteTask }) });
        cache.gc();
      },
    });
    assert.equal(deleteTask, target.id);
    const { data } = await gone;
    assert.ok(!data.tasks.edges.some((e) => e.node.id === target.id));
    assert.equal(client.cache.extract()[`Task:${target.id}`], undefined);
    list.stop();
    // The server agrees.
    const fresh = await client.query({ query: TASKS, variables: { first: 10 }, fetchPolicy: 'network-only' });
    assert.equal(fresh.data.tasks.totalCount, titles.length - 1);
    const me = await client.query({ query: ME, fetchPolicy: 'network-only' });
    assert.deepEqual({ ...me.data.me.stats, __typename: undefined },
      { pending: 3, ongoing: 1, complete: 0, total: 4, __typename: undefined });
  });

  it('reads the error codes of refused calls', async () => {
    const anonymous = createApolloClient(GRAPHQL, createSession(GRAPHQL));
    assert.equal(await codeOf(anonymous.query({ query: ME })), 'UNAUTHENTICATED');
    const USERS = gql`query Users { users { totalCount } }`;
    assert.equal(await codeOf(client.query({ query: USERS })), 'FORBIDDEN');
    // Someone else's task does not exist for this user.
    const other = await signUp('eve');
    const [theirs] = await createTasks(other.token, ['not yours']);
    assert.equal(await codeOf(client.mutate({ mutation: DELETE_TASK, variables: { id: theirs } })), 'NOT_FOUND');
    // A rule broken: the field is named in extensions.fields.
    try {
      await client.mutate({ mutation: CREATE_TASK, variables: { in: { title: ' ' } } });
      assert.fail('an empty title was accepted');
    } catch (err) {
      assert.ok(CombinedGraphQLErrors.is(err));
      assert.equal(err.errors[0].extensions.code, 'BAD_USER_INPUT');
      assert.equal(err.errors[0].extensions.fields[0].field, 'title');
    }
    // Refused before execution: HTTP 400 with application/graphql-response+json,
    // which Apollo still reads as GraphQL errors.
    const bad = gql`query Bad { tasks { edges { node { secret } } } }`;
    const before = sent.length;
    assert.equal(await codeOf(client.query({ query: bad })), 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(sent.length, before + 1);
  });

  it('uses automatic persisted queries over GET', async () => {
    const sha256 = (s) => createHash('sha256').update(s).digest('hex');
    const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
    const apq = createApolloClient(GRAPHQL, session);
    apq.setLink(link.concat(apq.link));
    // A query text of its own, so its hash is unknown to the server.
    const query = gql(`query PersistedMe${randomUUID().replaceAll('-', '')} { me { id username } }`);

    const before = sent.length;
    const first = await apq.query({ query, fetchPolicy: 'network-only' });
    assert.equal(first.data.me.username, 'ada');
    // Unknown hash (GET, refused with 400), then the query itself (POST).
    assert.deepEqual(sent.slice(before).map((r) => [r.method, r.url.searchParams.has('query') || Boolean(r.body?.query), r.status]),
      [['GET', false, 400], ['POST', true, 200]]);

    const again = await apq.query({ query, fetchPolicy: 'network-only' });
    assert.equal(again.data.me.id, first.data.me.id);
    const hit = sent.at(-1);
    assert.equal(hit.method, 'GET');
    assert.equal(hit.status, 200);
    assert.ok(!hit.url.searchParams.has('query'), 'the hash alone was enough');
    assert.equal(sent.length, before + 3);
  });
});
