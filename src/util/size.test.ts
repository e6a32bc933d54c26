import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSize } from './size.js';

test('parses sizes', () => {
  assert.equal(parseSize('1048576'), 1048576);
  assert.equal(parseSize('512M'), 512 * 2 ** 20);
  assert.equal(parseSize('10GiB'), 10 * 2 ** 30);
  assert.equal(parseSize('1.5k'), 1536);
  assert.equal(parseSize(7), 7);
  for (const bad of ['', 'x', '-1', '1 parsec', '1e400']) assert.throws(() => parseSize(bad), bad);
});
