import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from './load.js';

test('parses per-user rules with sizes and repository paths', () => {
  const c = parseConfig('serve:\n  users:\n    alice:\n      repos: [alice, shared/db]\n      maxSize: 1GiB\n    m:\n      appendOnly: false\n', 't');
  assert.deepEqual(c.serve.users.alice, { repos: [['alice'], ['shared', 'db']], maxSize: 2 ** 30 });
  assert.equal(c.serve.users.m?.appendOnly, false);
});

test('reports unknown keys and bad values with their path', () => {
  assert.throws(() => parseConfig('serve:\n  users:\n    alice:\n      appendonly: false\n', 'f.yaml'), (e: unknown) => e instanceof ConfigError && /serve\.users\.alice/.test(e.message));
  assert.throws(() => parseConfig('serve:\n  users:\n    alice:\n      repos: ["../x"]\n', 'f'), /serve\.users\.alice\.repos\.0/);
  assert.throws(() => parseConfig('serve:\n  users:\n    alice:\n      maxSize: lots\n', 'f'), /invalid size/);
  assert.throws(() => parseConfig('bogus: 1\n', 'f'), ConfigError);
  assert.throws(() => parseConfig('a: [\n', 'f'), /not valid YAML/);
});
