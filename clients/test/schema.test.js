// The schema as front-end tooling judges it: graphql-schema-linter with the
// rule set in .graphql-schema-linterrc (every rule but the alphabetical
// orderings: fields are in the order a reader meets them), and the Relay
// compiler over the operations a Relay app writes (relay/src).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const here = fileURLToPath(new URL('..', import.meta.url));
const schema = join(here, '..', 'schema.graphqls');
const bin = (name) => join(here, 'node_modules', '.bin', name);

it('graphql-schema-linter finds nothing', () => {
  const run = spawnSync(bin('graphql-schema-linter'), [], { cwd: here, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});

it('the Relay compiler accepts the schema with @connection, @refetchable and node', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(here, 'relay', 'src'), join(dir, 'src'), { recursive: true });
  // The compiler reads SDL only from a .graphql file.
  copyFileSync(schema, join(dir, 'schema.graphql'));
  const config = JSON.parse(readFileSync(join(here, 'relay', 'relay.config.json'), 'utf8'));
  writeFileSync(join(dir, 'relay.config.json'), JSON.stringify({ ...config, schema: './schema.graphql' }));
  const run = spawnSync(bin('relay-compiler'), [], { cwd: dir, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  for (const artifact of ['TaskListPaginationQuery.graphql.js', 'TaskItemRefetchQuery.graphql.js', 'TaskListRemoveMutation.graphql.js']) {
    assert.ok(existsSync(join(dir, 'src', '__generated__', artifact)), `${artifact} was not generated`);
  }
  // @refetchable on Task goes through Query.node.
  assert.match(readFileSync(join(dir, 'src', '__generated__', 'TaskItemRefetchQuery.graphql.js'), 'utf8'), /node\(id: \$id\)/);
});
