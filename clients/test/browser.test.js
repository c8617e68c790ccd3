// The playground (GraphiQL) and /docs (Swagger UI) in Debian's Chromium,
// which resolves no host name but localhost: both must work with no
// internet access. Each test saves a screenshot under test-output/clients/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { API, GRAPHQL, OUTPUT, createTasks, signUp } from './helpers.js';

const VIEWPORT = { width: 1400, height: 900 };
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run',
      // No internet: every host but localhost and 127.0.0.1 fails to resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
  });
  // Make sure: the CDN the pages used to load from is out of reach.
  const page = await browser.newPage();
  await page.goto(`${API}/healthz`);
  const outcome = await page.evaluate(() => fetch('https://cdn.jsdelivr.net/npm/react@18.2.0/umd/react.production.min.js', { mode: 'no-cors' })
    .then(() => 'reached the CDN', (err) => String(err)));
  assert.equal(outcome, 'TypeError: Failed to fetch');
  await page.close();
});
after(async () => { await browser?.close(); });

// open starts a browser context and records what went wrong on its page:
// a request to another origin than the allowed ones (taskapi's by default),
// a failed request, an error answer, an uncaught exception. (No request
// interception: Playwright would answer CORS preflights itself.)
async function open(allowed = [new URL(API).origin]) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const problems = [];
  const page = await context.newPage();
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!allowed.includes(url.origin) && url.protocol !== 'data:') problems.push(`request to another origin: ${url.href}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // The pages' Content-Security-Policy must not block anything they do.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && msg.text().includes('Content Security Policy')) problems.push(`CSP violation: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    const path = new URL(res.url()).pathname;
    if (res.status() >= 400 && path !== '/graphql') problems.push(`${res.status()} for ${path}`);
  });
  return { context, page, problems };
}

// screenshot saves a PNG of the page (or one element of it) and checks it
// is one.
async function screenshot(target, name) {
  const path = join(OUTPUT, name);
  await target.screenshot({ path });
  const png = readFileSync(path);
  assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${path} is not a PNG`);
  assert.ok(png.length > 10_000, `${path} is nearly empty`);
}

// assertOnScreen checks a locator is visible inside the viewport.
async function assertOnScreen(locator) {
  await locator.waitFor({ state: 'visible' });
  const box = await locator.boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= VIEWPORT.height && box.x + box.width <= VIEWPORT.width,
    `not on screen: ${JSON.stringify(box)}`);
}

describe('browser', () => {
  it('the playground at / runs a query and shows its result', { timeout: 90_000 }, async () => {
    const user = await signUp('pat');
    const titles = ['Buy oat milk', 'Write the GraphQL docs', 'Ship taskapi'];
    await createTasks(user.token, titles);
    const { context, page, problems } = await open();
    try {
      await page.goto(`${API}/`);
      assert.deepEqual(problems, [], 'the page did not load whole');
      const query = '{\n  me { username email }\n  tasks(first: 10) {\n    totalCount\n    edges { node { title status } }\n  }\n}';
      const setEditor = (selector, value) => page.evaluate(([s, v]) => document.querySelector(s).CodeMirror.setValue(v), [selector, value]);
      await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
      await setEditor('.graphiql-query-editor .CodeMirror', query);
      await page.getByRole('button', { name: 'Headers' }).click();
      await setEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror',
        JSON.stringify({ Authorization: `Bearer ${user.token}` }, null, 2));
      const answered = page.waitForResponse((r) => r.url() === GRAPHQL && r.request().postData()?.includes('tasks(first: 10)'));
      await page.getByRole('button', { name: /Execute query/ }).click();
      assert.equal((await answered).status(), 200);

      const result = page.locator('.result-window');
      for (const text of [...titles, `"${user.email}"`, '"totalCount": 3']) {
        await assertOnScreen(result.getByText(text));
      }
      const shown = JSON.parse(await result.locator('.CodeMirror').evaluate((el) => el.CodeMirror.getValue()));
      assert.deepEqual(shown.data.tasks.edges.map((e) => e.node.title), titles);
      await screenshot(page, 'playground.png');
      // The token typed into the headers editor is not kept in the browser.
      const stored = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
      assert.ok(stored.length > 2, 'GraphiQL keeps nothing: the check below would prove nothing');
      assert.ok(!stored.includes(user.token), 'the bearer token is kept in localStorage');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('/docs authorizes with a token and calls fetch-task', { timeout: 90_000 }, async () => {
    const user = await signUp('dora');
    const titles = ['Water the plants', 'Renew the passport'];
    await createTasks(user.token, titles);
    const { context, page, problems } = await open();
    try {
      await page.goto(`${API}/docs`);
      assert.deepEqual(problems, [], 'the page did not load whole');
      const op = page.locator('#operations-tasks-fetchTasks');
      await op.waitFor();

      await page.locator('.auth-wrapper .authorize').click();
      const modal = page.locator('.modal-ux');
      await modal.locator('#auth-bearer-value').fill(user.token);
      await modal.locator('button[aria-label="Apply credentials"]').click();
      await modal.getByText('Authorized').first().waitFor();
      await modal.locator('.btn-done').first().click();

      await op.locator('.opblock-summary').click();
      await op.getByRole('button', { name: 'Try it out' }).click();
      const answered = page.waitForResponse((r) => r.url() === `${API}/api/v1/tasks/fetch-task`);
      await op.getByRole('button', { name: 'Execute' }).click();
      const res = await answered;
      assert.equal(res.status(), 200);
      assert.equal(res.request().headers().authorization, `Bearer ${user.token}`);

      const live = op.locator('.live-responses-table');
      await live.locator('.response-col_status').getByText('200', { exact: true }).waitFor();
      const body = live.locator('.response-col_description .microlight').first();
      for (const title of titles) {
        await body.getByText(title).waitFor({ state: 'visible' });
      }
      const shown = JSON.parse(await body.innerText());
      assert.deepEqual(shown.map((t) => t.title), titles);
      assert.ok(shown.every((t) => t.user_id === user.id && t.status === 'pending'));
      await screenshot(op, 'docs.png');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('a page from another origin calls /graphql as Apollo (POST) and urql (GET) do', { timeout: 90_000 }, async () => {
    const user = await signUp('cora');
    await createTasks(user.token, ['Cross the origin']);
    // The front end: a page served from another origin than taskapi's.
    const site = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><title>front end</title><body style="font: 18px monospace"><h1>front end</h1><pre id="out"></pre></body>');
    });
    await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
    const origin = `http://localhost:${site.address().port}`;
    const { context, page, problems } = await open([new URL(API).origin, origin]);
    try {
      await page.goto(origin);
      const results = await page.evaluate(async ([graphql, token]) => {
        const query = '{ me { username } tasks { edges { node { title } } } }';
        const auth = { authorization: `Bearer ${token}` };
        const call = async (name, url, init) => {
          try {
            const res = await fetch(url, init);
            return { name, status: res.status, body: await res.json() };
          } catch (err) {
            return { name, error: String(err) };
          }
        };
        const results = [
          await call('POST, as Apollo Client', graphql, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json', accept: 'application/graphql-response+json,application/json;q=0.9' },
            body: JSON.stringify({ query }),
          }),
          await call('GET, as urql', `${graphql}?${new URLSearchParams({ query })}`, {
            headers: { ...auth, accept: 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed' },
          }),
          // The browser does enforce CORS: a header taskapi does not allow is refused.
          await call('POST with a header taskapi does not allow', graphql, {
            method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'x-not-allowed': '1' }, body: JSON.stringify({ query }),
          }),
        ];
        document.getElementById('out').textContent = results.map((r) => `${r.name}:\n  ${JSON.stringify(r.body ?? r.error)}`).join('\n\n');
        return results;
      }, [GRAPHQL, user.token]);

      for (const r of results.slice(0, 2)) {
        assert.equal(r.status, 200, r.name);
        assert.deepEqual(r.body.data, { me: { username: 'cora' }, tasks: { edges: [{ node: { title: 'Cross the origin' } }] } }, r.name);
      }
      assert.match(results[2].error, /Failed to fetch/);
      await assertOnScreen(page.getByText('Cross the origin').first());
      await screenshot(page, 'cors.png');
      assert.deepEqual(problems, [`request failed: ${GRAPHQL} net::ERR_FAILED`]);
    } finally {
      await context.close();
      site.close();
    }
  });
});
