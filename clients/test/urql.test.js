// urql (@urql/core with its document cache) against a running taskapi,
// through the very client factory docs/clients.md shows. urql sends
// queries as GET and mutations as POST.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { gql } from '@urql/core';

import { createSession } from '../src/session.js';
import { createUrqlClient } from '../src/urql.js';
import { GRAPHQL, PASSWORD, createTasks, signUp, uniqueEmail } from './helpers.js';

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
    record.contentType = res.headers.get('content-type');
    return res;
  };
});
after(() => { globalThis.fetch = realFetch; });

const REGISTER = gql`
  mutation Register($in: RegisterInput!) { register(input: $in) { id email } }
`;
const LOGIN = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken expiresIn }
  }
`;
const CREATE_TASK = gql`
  mutation CreateTask($in: CreateTaskInput!) { createTask(input: $in) { id title status } }
`;
const TASKS = gql`
  query Tasks($first: Int, $after: String) {
    tasks(first: $first, after: $after) {
      totalCount
      edges { cursor node { id title status } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const UPDATE_TASK = gql`
  mutation UpdateTask($id: ID!, $in: UpdateTaskInput!) { updateTask(id: $id, input: $in) { id status } }
`;
const DELETE_TASK = gql`mutation DeleteTask($id: ID!) { deleteTask(id: $id) }`;
const ME = gql`query Me { me { id } }`;

// ok returns a result's data, failing on any error.
function ok(result) {
  assert.equal(result.error, undefined, `unexpected error: ${result.error}`);
  return result.data;
}

// code is the extensions.code of a failed result's first GraphQL error.
function code(result) {
  assert.ok(result.error, 'the call succeeded');
  assert.ok(result.error.graphQLErrors.length > 0, `no GraphQL error: ${result.error}`);
  return result.error.graphQLErrors[0].extensions.code;
}

describe('urql', () => {
  const session = createSession(GRAPHQL);
  const client = createUrqlClient(GRAPHQL, session);
  const email = uniqueEmail('urql');
  const titles = ['Book the venue', 'Send the invites', 'Order the cake'];
  const ids = [];

  it('registers and logs in (mutations go as POST)', async () => {
    const { register } = ok(await client.mutation(REGISTER, { in: { username: 'grace', email, password: PASSWORD } }).toPromise());
    assert.equal(register.email, email);
    const { login } = ok(await client.mutation(LOGIN, { email, password: PASSWORD }).toPromise());
    session.set(login);
    assert.ok(sent.every((r) => r.method === 'POST'));
  });

  it('creates tasks', async () => {
    for (const title of titles) {
      const { createTask } = ok(await client.mutation(CREATE_TASK, { in: { title } }).toPromise());
      assert.equal(createTask.status, 'PENDING');
      ids.push(createTask.id);
    }
    assert.equal(sent.at(-1).headers.get('authorization'), `Bearer ${session.accessToken}`);
  });

  it('pages through tasks with cursors, each page a GET', async () => {
    const before = sent.length;
    const seen = [];
    let after;
    for (;;) {
      const { tasks } = ok(await client.query(TASKS, { first: 2, after }).toPromise());
      assert.equal(tasks.totalCount, titles.length);
      seen.push(...tasks.edges.map((e) => e.node.title));
      if (!tasks.pageInfo.hasNextPage) break;
      after = tasks.pageInfo.endCursor;
    }
    assert.deepEqual(seen, titles);
    const gets = sent.slice(before);
    assert.deepEqual(gets.map((r) => r.method), ['GET', 'GET']);
    assert.equal(JSON.parse(gets[1].url.searchParams.get('variables')).after, after);
    assert.ok(gets.every((r) => r.status === 200 && r.contentType.startsWith('application/graphql-response+json')));
  });

  it('updates a status: the mutation invalidates the cached list, which is fetched again', async () => {
    const first = ok(await client.query(TASKS, { first: 10 }).toPromise());
    const before = sent.length;
    ok(await client.query(TASKS, { first: 10 }).toPromise());
    assert.equal(sent.length, before, 'the second read came from the cache');

    const { updateTask } = ok(await client.mutation(UPDATE_TASK, { id: ids[2], in: { status: 'COMPLETE' } }).toPromise());
    assert.equal(updateTask.status, 'COMPLETE');
    const { tasks } = ok(await client.query(TASKS, { first: 10 }).toPromise());
    assert.equal(first.tasks.edges[2].node.status, 'PENDING');
    assert.equal(tasks.edges[2].node.status, 'COMPLETE');
    assert.deepEqual(sent.slice(before).map((r) => r.method), ['POST', 'GET']);
  });

  it('deletes a task', async () => {
    const { deleteTask } = ok(await client.mutation(DELETE_TASK, { id: ids[0] }).toPromise());
    assert.equal(deleteTask, ids[0]);
    const { tasks } = ok(await client.query(TASKS, { first: 10 }, { requestPolicy: 'network-only' }).toPromise());
    assert.deepEqual(tasks.edges.map((e) => e.node.id), ids.slice(1));
    assert.equal(tasks.totalCount, titles.length - 1);
  });

  it('removes a task: removeTask answers a Task, so the document cache fetches its lists again', async () => {
    const REMOVE = gql`mutation RemoveTask($id: ID!) { removeTask(id: $id) { deletedTaskId task { id } stats { total } } }`;
    const ME_STATS = gql`query MeStats { me { id stats { total } } }`;
    ok(await client.query(TASKS, { first: 10 }).toPromise());
    ok(await client.query(ME_STATS, {}).toPromise());
    const { removeTask } = ok(await client.mutation(REMOVE, { id: ids[1] }).toPromise());
    assert.equal(removeTask.deletedTaskId, ids[1]);
    assert.equal(removeTask.stats.total, titles.length - 2);
    const before = sent.length;
    const { tasks } = ok(await client.query(TASKS, { first: 10 }).toPromise());
    assert.deepEqual(tasks.edges.map((e) => e.node.id), ids.slice(2));
    assert.equal(tasks.totalCount, titles.length - 2);
    // The list held a Task, so it was fetched again (a bare ID names no type);
    // me (a User only) was not invalidated: read its stats from removeTask.
    assert.deepEqual(sent.slice(before).map((r) => r.method), ['GET']);
  });

  it('reads the error codes of refused calls', async () => {
    const anonymous = createUrqlClient(GRAPHQL, createSession(GRAPHQL));
    assert.equal(code(await anonymous.query(ME, {}).toPromise()), 'UNAUTHENTICATED');
    assert.equal(code(await client.query(gql`query Users { users { totalCount } }`, {}).toPromise()), 'FORBIDDEN');
    const other = await signUp('mallory');
    const [theirs] = await createTasks(other.token, ['not yours']);
    assert.equal(code(await client.mutation(UPDATE_TASK, { id: theirs, in: { status: 'COMPLETE' } }).toPromise()), 'NOT_FOUND');
    // Refused before execution, over GET: 400 with
    // application/graphql-response+json, still read as GraphQL errors.
    const result = await client.query(gql`query Bad { tasks { edges { node { secret } } } }`, {}).toPromise();
    assert.equal(code(result), 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(sent.at(-1).method, 'GET');
    assert.equal(sent.at(-1).status, 400);
  });
});
