// What a task screen shows stays right without a refetch, with the cache
// setups docs/clients.md shows: Apollo Client (createApolloClient and
// taskListsUpdate) and urql's graphcache (createUrqlGraphcacheClient),
// through create → update status → change the due date → rename → remove,
// with lists per status, per order and per search watched as a UI would
// watch them. After every step each list, the task detail and me.stats must
// equal what the server answers, and the client must have sent the
// mutation only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { gql } from '@apollo/client';

import { taskListsUpdate } from '../src/apollo-lists.js';
import { createApolloClient } from '../src/apollo.js';
import { createSession } from '../src/session.js';
import { createUrqlGraphcacheClient } from '../src/urql-graphcache.js';
import { GRAPHQL, gql as ask, signUp } from './helpers.js';

const sent = [];
const realFetch = globalThis.fetch;
before(() => {
  globalThis.fetch = async (input, init = {}) => {
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    const text = body?.query ?? new URL(typeof input === 'string' ? input : input.url).searchParams.get('query');
    sent.push(body?.operationName ?? text?.match(/^\s*(?:query|mutation)\s+(\w+)/)?.[1] ?? null);
    return realFetch(input, init);
  };
});
after(() => { globalThis.fetch = realFetch; });

const TASK_FIELDS = 'id title description status createdAt updatedAt dueDate';
const STATS = 'owner { id stats { pending ongoing complete total } }';
const TASKS = gql`
  query Tasks($status: TaskStatus, $orderBy: TaskOrder, $search: String, $first: Int, $after: String) {
    tasks(status: $status, orderBy: $orderBy, search: $search, first: $first, after: $after) {
      totalCount
      edges { cursor node { ${TASK_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const TASK = gql`query Task($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`;
const ME = gql`query Me { me { id stats { pending ongoing complete total } } }`;
const CREATE = gql`mutation CreateTask($in: CreateTaskInput!) { createTask(input: $in) { ${TASK_FIELDS} ${STATS} } }`;
const UPDATE = gql`mutation UpdateTask($id: ID!, $in: UpdateTaskInput!) { updateTask(id: $id, input: $in) { ${TASK_FIELDS} ${STATS} } }`;
const REMOVE = gql`mutation RemoveTask($id: ID!) { removeTask(id: $id) { deletedTaskId task { id ${STATS} } } }`;

// byClient is what the client under test sent since mark (the test's own
// bare requests carry no operation name).
const byClient = (mark) => sent.slice(mark).filter(Boolean);

// The lists a task screen might hold at once.
const lists = {
  all: {},
  pending: { status: 'PENDING' },
  complete: { status: 'COMPLETE' },
  byDueDate: { orderBy: { field: 'DUE_DATE', direction: 'ASC' } },
  latestFirst: { orderBy: { field: 'UPDATED_AT', direction: 'DESC' } },
  newestFirst: { orderBy: { field: 'CREATED_AT', direction: 'DESC' } },
  searchReport: { search: 'rÉport', orderBy: { field: 'DUE_DATE', direction: 'DESC' } },
};

// The server's own answer for a list, asked with bare fetch.
async function serverList(token, args) {
  const { tasks } = await ask(
    `query($status: TaskStatus, $orderBy: TaskOrder, $search: String) {
      tasks(status: $status, orderBy: $orderBy, search: $search, first: 100) { totalCount edges { node { id } } } }`,
    args, token);
  return { ids: tasks.edges.map((e) => e.node.id), total: tasks.totalCount };
}

// A client under test, as the scenario drives it.
const apollo = {
  name: 'Apollo Client',
  connect(session) {
    const client = createApolloClient(GRAPHQL, session);
    return {
      watch: (query, variables) => new Promise((resolve) => {
        // A cached answer arrives during subscribe itself: resolve after it.
        const sub = client.watchQuery({ query, variables }).subscribe({
          next(r) { if (!r.loading && r.data) queueMicrotask(() => resolve(() => sub.unsubscribe())); },
        });
      }),
      read: (query, variables) => client.readQuery({ query, variables }),
      mutate: async (mutation, variables, previous) =>
        (await client.mutate({ mutation, variables, update: taskListsUpdate(previous) })).data,
      holds: (id) => client.cache.extract()[`Task:${id}`] !== undefined,
    };
  },
};

const graphcache = {
  name: "urql's graphcache",
  connect(session) {
    const client = createUrqlGraphcacheClient(GRAPHQL, session, TASKS);
    return {
      watch: (query, variables) => new Promise((resolve) => {
        const sub = client.query(query, variables).subscribe((r) => {
          if (r.data && !r.stale) queueMicrotask(() => resolve(() => sub.unsubscribe()));
        });
      }),
      read: (query, variables) => client.readQuery(query, variables)?.data ?? null,
      mutate: async (mutation, variables) => {
        const r = await client.mutation(mutation, variables).toPromise();
        assert.equal(r.error, undefined);
        return r.data;
      },
      holds: (id) => client.readQuery(TASK, { id })?.data?.task != null,
    };
  },
};

for (const c of [apollo, graphcache]) {
  describe(`${c.name} keeps every list right without a refetch`, () => {
    const session = createSession(GRAPHQL);
    const client = c.connect(session);
    let user;
    const detail = {}; // id → unsubscribe of its detail view

    before(async () => {
      user = await signUp('lists');
      session.set(user.payload);
      // Two tasks exist before the screen opens.
      for (const title of ['Monthly report', 'Buy milk']) {
        await ask('mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }', { in: { title } }, user.token);
      }
      for (const args of Object.values(lists)) {
        await client.watch(TASKS, { ...args, first: 20 });
      }
      await client.watch(ME, {});
    });

    // check compares what the client holds with the server's answers.
    async function check(step) {
      await new Promise((resolve) => setTimeout(resolve, 20)); // let watchers settle
      for (const [name, args] of Object.entries(lists)) {
        const mine = client.read(TASKS, { ...args, first: 20 });
        const theirs = await serverList(user.token, args);
        assert.deepEqual(mine?.tasks.edges.map((e) => e.node.id), theirs.ids, `${step}: list ${name}`);
        assert.equal(mine.tasks.totalCount, theirs.total, `${step}: totalCount of ${name}`);
      }
      const { me } = await ask('{ me { stats { pending ongoing complete total } } }', {}, user.token);
      const cached = client.read(ME, {}).me;
      assert.deepEqual({ ...cached.stats, __typename: undefined }, { ...me.stats, __typename: undefined }, `${step}: me.stats`);
      for (const id of Object.keys(detail)) {
        const cachedTask = client.read(TASK, { id })?.task ?? null;
        const { task } = await ask(`query($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id }, user.token);
        assert.deepEqual(cachedTask && { ...cachedTask, __typename: undefined }, task && { ...task, __typename: undefined }, `${step}: task ${id}`);
      }
    }

    // step runs one mutation and checks that it was the only request.
    async function step(what, mutation, variables, previous) {
      const mark = sent.length;
      const data = await client.mutate(mutation, variables, previous);
      await check(what);
      assert.deepEqual(byClient(mark), [mutation.definitions[0].name.value], `${what}: only the mutation was sent`);
      return data;
    }
    const current = (id) => client.read(TASK, { id }).task;

    let created;
    it('creates a task with a due date: it appears in every list it belongs to, in place', async () => {
      const data = await step('create', CREATE,
        { in: { title: 'Quarterly REPORT', description: 'numbers', dueDate: '2027-01-15T09:00:00.000Z' } });
      created = data.createTask;
      const mark = sent.length;
      detail[created.id] = await client.watch(TASK, { id: created.id });
      assert.deepEqual(byClient(mark), [], 'the detail view came from the cache');
    });

    it('another without a due date sorts last by due date', async () => {
      await step('create without due date', CREATE, { in: { title: 'Call the report desk' } });
    });

    it('completes a task: it leaves PENDING, joins COMPLETE, moves to the top of latest-first', async () => {
      await step('complete', UPDATE, { id: created.id, in: { status: 'COMPLETE' } }, current(created.id));
    });

    it('changes the due date, then clears it: the due-date order follows', async () => {
      for (const dueDate of ['2026-06-01T00:00:00.000Z', null]) {
        await step(`due date ${dueDate}`, UPDATE, { id: created.id, in: { dueDate } }, current(created.id));
      }
    });

    it('renames a task out of the search and back', async () => {
      for (const title of ['Quarterly numbers', 'Quarterly report again']) {
        await step(`rename to ${title}`, UPDATE, { id: created.id, in: { title } }, current(created.id));
      }
    });

    it('removes a task: every list drops it, the stats follow, the cache forgets it', async () => {
      detail[created.id](); // its detail view closes
      const data = await step('remove', REMOVE, { id: created.id });
      assert.equal(data.removeTask.deletedTaskId, created.id);
      assert.equal(client.holds(created.id), false);
    });
  });
}

describe('Pages of a searched, sorted list hold every match exactly once, both ways', () => {
  it('Apollo fetchMore forward, then last/before backward', async () => {
    const user = await signUp('pages');
    const session = createSession(GRAPHQL);
    session.set(user.payload);
    const client = createApolloClient(GRAPHQL, session);
    const titles = ['Éclair A', 'eclair B', 'bread', 'ECLAIRS C', 'éclairé D', 'cake', 'Eclair E'];
    for (const [i, title] of titles.entries()) {
      const dueDate = i % 3 === 0 ? null : `2027-0${1 + (i % 4)}-01T00:00:00.000Z`;
      await ask('mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }', { in: { title, dueDate } }, user.token);
    }
    const args = { search: 'eclair', orderBy: { field: 'DUE_DATE', direction: 'DESC' } };
    const all = await serverList(user.token, args);
    assert.equal(all.ids.length, 5);

    const variables = { ...args, first: 2 };
    let { data } = await client.query({ query: TASKS, variables });
    const q = client.watchQuery({ query: TASKS, variables });
    while (data.tasks.pageInfo.hasNextPage) {
      await q.fetchMore({ variables: { after: data.tasks.pageInfo.endCursor } });
      data = client.readQuery({ query: TASKS, variables }); // relayStylePagination merged the pages
    }
    assert.deepEqual(data.tasks.edges.map((e) => e.node.id), all.ids);

    const back = [];
    for (let before = null; ;) {
      const { tasks } = await ask(
        `query($search: String, $orderBy: TaskOrder, $before: String) {
          tasks(search: $search, orderBy: $orderBy, last: 2, before: $before) {
            edges { node { id } } pageInfo { hasPreviousPage startCursor } } }`,
        { ...args, before }, user.token);
      back.unshift(...tasks.edges.map((e) => e.node.id));
      if (!tasks.pageInfo.hasPreviousPage) break;
      before = tasks.pageInfo.startCursor;
    }
    assert.deepEqual(back, all.ids);
  });
});
