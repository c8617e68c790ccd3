// docs/clients.md and the README show the client code these tests drive,
// verbatim: the README the two factories, docs/clients.md also the session
// they share.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

const shown = {
  'docs/clients.md': ['session.js', 'apollo.js', 'urql.js', 'tasklists.js', 'apollo-lists.js', 'urql-graphcache.js'],
  'README.md': ['apollo.js', 'urql.js'],
};
for (const [docPath, files] of Object.entries(shown)) {
  const doc = readFileSync(new URL(`../../${docPath}`, import.meta.url), 'utf8');
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const file of files) {
    it(`${docPath} shows src/${file} as it is tested`, () => {
      const source = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      assert.ok(blocks.includes(source), `${docPath} has no js block equal to clients/src/${file}`);
    });
  }
}
