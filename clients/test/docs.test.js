// docs/clients.md and the README show the client factories these tests
// drive, verbatim.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

for (const docPath of ['docs/clients.md', 'README.md']) {
  const doc = readFileSync(new URL(`../../${docPath}`, import.meta.url), 'utf8');
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const file of ['apollo.js', 'urql.js']) {
    it(`${docPath} shows src/${file} as it is tested`, () => {
      const source = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      assert.ok(blocks.includes(source), `${docPath} has no js block equal to clients/src/${file}`);
    });
  }
}
