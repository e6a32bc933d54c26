import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange } from './range.js';

test('parses the range forms restic sends', () => {
  assert.equal(parseRange(undefined, 10), 'none');
  assert.deepEqual(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
  assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=5-100', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
});

test('refuses unsatisfiable and malformed ranges', () => {
  for (const r of ['bytes=10-', 'bytes=5-2', 'bytes=abc', 'bytes=0-1,3-4', 'bytes=-', 'bytes=-0', 'bytes=99999999999999999999-']) {
    assert.equal(parseRange(r, 10), 'unsatisfiable', r);
  }
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange('items=0-1', 10), 'none', 'unknown units are ignored');
});

test('follows RFC 9110: case-insensitive units, a last-byte-pos or suffix of any size clamps to the file', () => {
  assert.deepEqual(parseRange('BYTES=0-1', 10), { start: 0, end: 1 });
  assert.deepEqual(parseRange('Bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=3-99999999999999999999', 10), { start: 3, end: 9 });
  assert.deepEqual(parseRange(`bytes=0-${'9'.repeat(400)}`, 10), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=-99999999999999999999', 10), { start: 0, end: 9 });
  assert.equal(parseRange('bytes=10-99999999999999999999', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=99999999999999999999-99999999999999999999', 10), 'unsatisfiable');
});
