// Shared by the tests: where taskapi runs, and a bare-fetch GraphQL caller
// for setting up data without the client under test.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const API = process.env.TASKAPI_URL;
if (!API) {
  throw new Error('TASKAPI_URL is not set: run the tests with clients/run-tests.sh, which starts taskapi');
}
export const GRAPHQL = `${API}/graphql`;
export const PASSWORD = 's3cret!pw';

// OUTPUT is where the browser tests save their screenshots.
export const OUTPUT = process.env.TEST_OUTPUT_DIR ||
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output', 'clients');
mkdirSync(OUTPUT, { recursive: true });

export function uniqueEmail(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.com`;
}

// gql POSTs one operation and returns the decoded answer, failing on errors.
export async function gql(query, variables = {}, token = null) {
  const res = await fetch(GRAPHQL, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (res.status !== 200 || body.errors) {
    throw new Error(`GraphQL ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.data;
}

// signUp registers a user with bare fetch and logs them in.
export async function signUp(username) {
  const email = uniqueEmail(username);
  const { register } = await gql(
    'mutation($in: RegisterInput!) { register(input: $in) { id } }',
    { in: { username, email, password: PASSWORD } },
  );
  const payload = await logIn(email);
  return { id: register.id, email, username, token: payload.accessToken, payload };
}

// logIn logs email's user in with bare fetch: the whole AuthPayload.
export async function logIn(email) {
  const { login } = await gql(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken expiresIn refreshExpiresIn } }',
    { e: email, p: PASSWORD },
  );
  return login;
}

// expired returns token as the server would have issued it two minutes
// earlier (same user, same session): its exp has passed. run-tests.sh gives
// the server its JWT_SECRET, so an expired token takes no waiting for JWT_TTL
// (at least a minute).
export function expired(token) {
  const secret = process.env.TASKAPI_JWT_SECRET;
  if (!secret) throw new Error('TASKAPI_JWT_SECRET is not set: run the tests with clients/run-tests.sh');
  const [header, body] = token.split('.');
  const claims = JSON.parse(Buffer.from(body, 'base64url'));
  const ttl = claims.exp - claims.iat;
  claims.iat = Math.floor(Date.now() / 1000) - ttl - 120;
  claims.exp = claims.iat + ttl;
  const signed = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

// createTasks adds tasks titled titles for token's user, in order.
export async function createTasks(token, titles) {
  const ids = [];
  for (const title of titles) {
    const { createTask } = await gql(
      'mutation($in: CreateTaskInput!) { createTask(input: $in) { id } }', { in: { title } }, token);
    ids.push(createTask.id);
  }
  return ids;
}
