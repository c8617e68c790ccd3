// GraphQL over HTTP and CORS as the running binary answers them (the full
// middleware stack included), with bare fetch.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { API, GRAPHQL, signUp } from './helpers.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';
const LEGACY_JSON = 'application/json; charset=utf-8';

async function post(body, headers = {}) {
  return fetch(GRAPHQL, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

function get(params, headers = {}) {
  return fetch(`${GRAPHQL}?${new URLSearchParams(params)}`, { headers });
}

describe('GraphQL over HTTP', () => {
  it('answers POST and GET in the media type the client asks for', async () => {
    for (const [accept, type] of [
      ['application/graphql-response+json', GRAPHQL_RESPONSE],
      ['application/graphql-response+json,application/json;q=0.9', GRAPHQL_RESPONSE],
      ['application/json', LEGACY_JSON],
      ['*/*', LEGACY_JSON],
    ]) {
      for (const res of [await post({ query: '{ __typename }' }, { accept }), await get({ query: '{ __typename }' }, { accept })]) {
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), type, accept);
        assert.deepEqual(await res.json(), { data: { __typename: 'Query' } });
      }
    }
    const res = await post({ query: '{ __typename }' }, { accept: 'text/html' });
    assert.equal(res.status, 406);
  });

  it('refuses an invalid document with 400 (graphql-response+json) or 200 (json)', async () => {
    for (const [accept, status] of [['application/graphql-response+json', 400], ['application/json', 200]]) {
      const res = await post({ query: '{ nope }' }, { accept });
      assert.equal(res.status, status, accept);
      const body = await res.json();
      assert.equal('data' in body, false);
      assert.equal(body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
    }
  });

  it('answers 200 with data null and the code for a field error', async () => {
    const res = await post({ query: '{ me { id } }' }, { accept: 'application/graphql-response+json' });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.data, null);
    assert.equal(body.errors[0].extensions.code, 'UNAUTHENTICATED');
  });

  it('refuses a mutation over GET with 405 and Allow: POST, running nothing', async () => {
    const user = await signUp('getter');
    const res = await get({ query: 'mutation { createTask(input: {title: "via GET"}) { id } }' },
      { authorization: `Bearer ${user.token}` });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal((await res.json()).errors[0].extensions.code, 'BAD_REQUEST');
    const check = await post({ query: '{ tasks { totalCount } }' }, { authorization: `Bearer ${user.token}` });
    assert.deepEqual(await check.json(), { data: { tasks: { totalCount: 0 } } });
  });

  it('refuses what is not a GraphQL request with 4xx', async () => {
    const cases = [
      [fetch(GRAPHQL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' }), 400],
      [post({ qeury: '{ __typename }' }), 400],
      [post({ query: '{ __typename }', variables: [7] }), 400],
      [fetch(GRAPHQL, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' }), 415],
      [fetch(GRAPHQL, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }), 405],
    ];
    for (const [pending, status] of cases) {
      const res = await pending;
      assert.equal(res.status, status);
      assert.equal((await res.json()).errors[0].extensions.code, 'BAD_REQUEST');
    }
  });
});

describe('CORS', () => {
  // As a browser sends them: header names lowercase, sorted, no spaces.
  for (const [method, headers] of [['POST', 'authorization,content-type'], ['GET', 'authorization']]) {
    it(`answers the preflight of a ${method} with a token from another origin`, async () => {
      const res = await fetch(GRAPHQL, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:5173', 'access-control-request-method': method, 'access-control-request-headers': headers },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.ok(res.headers.get('access-control-allow-methods').split(/,\s*/).includes(method));
      for (const h of headers.split(',')) {
        assert.ok(res.headers.get('access-control-allow-headers').toLowerCase().includes(h), h);
      }
    });
  }

  it('lets the browser read the answer of the actual request', async () => {
    const res = await post({ query: '{ __typename }' }, { origin: 'http://localhost:5173' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });
});

describe('Embedded browser assets', () => {
  it('serves what the playground loads, with the integrity it names and long caching', async () => {
    const page = await (await fetch(`${API}/`)).text();
    const loaded = [...page.matchAll(/(?:src|href)="([^"]+)"\s+integrity="([^"]+)"/g)];
    assert.equal(loaded.length, 4);
    for (const [, path, integrity] of loaded) {
      assert.match(path, /^\/static\//);
      const res = await fetch(API + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type'), /^text\/(javascript|css); charset=utf-8$/);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      const sum = createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('base64');
      assert.equal(`sha256-${sum}`, integrity.replaceAll('&#43;', '+'), path);
    }
  });

  it('serves what /docs loads', async () => {
    const page = await (await fetch(`${API}/docs`)).text();
    const loaded = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(loaded.length, 2);
    for (const path of loaded) {
      const res = await fetch(API + path);
      assert.equal(res.status, 200, path);
      assert.ok((await res.arrayBuffer()).byteLength > 100_000, path);
    }
  });
});
