// Live updates as front ends receive them: graphql-ws's client (what
// Apollo's GraphQLWsLink and urql's subscriptionExchange wrap), Apollo
// Client with GraphQLWsLink, urql with subscriptionExchange, and
// graphql-sse's client over Server-Sent Events — all against the real
// server. Each sees the caller's task changes, in order, and nothing of
// another user's; a logout ends the subscription with UNAUTHENTICATED.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { ApolloClient, InMemoryCache, gql as apolloGql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

import { GRAPHQL, gql as ask, signUp } from './helpers.js';

const WS_URL = GRAPHQL.replace(/^http/, 'ws');
const TASK_EVENTS = 'subscription { taskEvents { kind taskId task { id title status } stats { total } } }';

// ws opens a graphql-ws client for token (no retries: a test wants the
// first failure).
function ws(token) {
  return createWsClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
  });
}

// collect gathers a subscription's events from a sink-style subscribe
// function; next(n) waits for the n-th.
function collect(subscribe) {
  const events = [];
  const waiters = [];
  let ended = null;
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  const unsubscribe = subscribe({
    next: (v) => { events.push(v); wake(); },
    error: (e) => { ended = { error: e }; wake(); },
    complete: () => { ended = ended ?? { complete: true }; wake(); },
  });
  return {
    events,
    get ended() { return ended; },
    unsubscribe,
    async until(pred, ms = 8000) {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out; events so far: ${JSON.stringify(events)}, ended: ${JSON.stringify(ended)}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
    },
  };
}

const kinds = (c) => c.events.map((e) => e.data?.taskEvents?.kind);

// write makes the changes every client must see, through both APIs.
async function write(user) {
  const { createTask } = await ask('mutation { createTask(input: {title: "live"}) { id } }', {}, user.token);
  await ask('mutation($id: ID!) { updateTask(id: $id, input: {status: COMPLETE}) { id } }', { id: createTask.id }, user.token);
  const res = await fetch(`${GRAPHQL.replace(/\/graphql$/, '')}/api/v1/tasks/delete-task/${createTask.id}`, {
    method: 'DELETE', headers: { Authorization: `Bearer ${user.token}` },
  });
  assert.equal(res.status, 200);
  return createTask.id;
}

describe('Subscriptions with the real clients', () => {
  let ann;
  let bob;
  before(async () => {
    ann = await signUp('live-ann');
    bob = await signUp('live-bob');
  });

  it('graphql-ws: every change in order, nothing of another user', async () => {
    const annWs = ws(ann.token);
    const bobWs = ws(bob.token);
    const mine = collect((sink) => annWs.subscribe({ query: TASK_EVENTS }, sink));
    const theirs = collect((sink) => bobWs.subscribe({ query: TASK_EVENTS }, sink));
    await new Promise((r) => setTimeout(r, 300));
    const id = await write(ann);
    await mine.until(() => mine.events.length === 3);
    assert.deepEqual(kinds(mine), ['CREATED', 'UPDATED', 'DELETED']);
    assert.equal(mine.events[1].data.taskEvents.task.status, 'COMPLETE');
    assert.equal(mine.events[2].data.taskEvents.taskId, id);
    assert.equal(mine.events[2].data.taskEvents.task, null);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(theirs.events, []);
    mine.unsubscribe(); theirs.unsubscribe();
    await annWs.dispose(); await bobWs.dispose();
  });

  it("Apollo Client with GraphQLWsLink", async () => {
    const wsClient = ws(ann.token);
    const client = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
    const c = collect((sink) => {
      const sub = client.subscribe({ query: apolloGql(TASK_EVENTS) }).subscribe(sink);
      return () => sub.unsubscribe();
    });
    await new Promise((r) => setTimeout(r, 300));
    await write(ann);
    await c.until(() => c.events.length === 3);
    assert.deepEqual(kinds(c), ['CREATED', 'UPDATED', 'DELETED']);
    c.unsubscribe();
    await wsClient.dispose();
  });

  it("urql with subscriptionExchange (graphql-ws)", async () => {
    const wsClient = ws(ann.token);
    const client = new Client({
      url: GRAPHQL,
      exchanges: [subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: wsClient.subscribe({ ...request, query: request.query || '' }, sink) }),
        }),
      })],
    });
    const c = collect((sink) => {
      const { unsubscribe } = client.subscription(TASK_EVENTS, {}).subscribe((r) => sink.next(r));
      return unsubscribe;
    });
    await new Promise((r) => setTimeout(r, 300));
    await write(ann);
    await c.until(() => c.events.length === 3);
    assert.deepEqual(kinds(c), ['CREATED', 'UPDATED', 'DELETED']);
    c.unsubscribe();
    await wsClient.dispose();
  });

  it('graphql-sse (Server-Sent Events, distinct connections)', async () => {
    const client = createSseClient({ url: GRAPHQL, headers: { Authorization: `Bearer ${ann.token}` }, singleConnection: false, retryAttempts: 0 });
    const c = collect((sink) => client.subscribe({ query: TASK_EVENTS }, sink));
    await new Promise((r) => setTimeout(r, 300));
    await write(ann);
    await c.until(() => c.events.length === 3);
    assert.deepEqual(kinds(c), ['CREATED', 'UPDATED', 'DELETED']);
    c.unsubscribe();
    client.dispose();
  });

  it('a logout ends the subscription with UNAUTHENTICATED, then completes', async () => {
    const user = await signUp('live-leaver');
    const wsClient = ws(user.token);
    const c = collect((sink) => wsClient.subscribe({ query: TASK_EVENTS }, sink));
    await new Promise((r) => setTimeout(r, 300));
    await ask('mutation { logoutEverywhere }', {}, user.token);
    await c.until(() => c.ended !== null, 10_000);
    const last = c.events.at(-1);
    assert.equal(last?.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', JSON.stringify(c.events));
    assert.deepEqual(c.ended, { complete: true });
    await wsClient.dispose();
  });

  it('a bad token is refused at connection_init (4403)', async () => {
    const wsClient = createWsClient({ url: WS_URL, webSocketImpl: WebSocket, connectionParams: { Authorization: 'Bearer nope' }, retryAttempts: 0 });
    const c = collect((sink) => wsClient.subscribe({ query: TASK_EVENTS }, sink));
    await c.until(() => c.ended !== null);
    assert.equal(c.ended.error?.code, 4403, JSON.stringify(c.ended));
    await wsClient.dispose();
  });
});

