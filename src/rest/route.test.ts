import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestUrl, parseRoutePath, RouteError } from './route.js';

const ID = 'a'.repeat(64);

test('routes restic paths', () => {
  assert.deepEqual(parseRoutePath('/'), { kind: 'repo', repo: [] });
  assert.deepEqual(parseRoutePath('/r/'), { kind: 'repo', repo: ['r'] });
  assert.deepEqual(parseRoutePath('/host/name/'), { kind: 'repo', repo: ['host', 'name'] });
  assert.deepEqual(parseRoutePath('/r/config'), { kind: 'config', repo: ['r'] });
  assert.deepEqual(parseRoutePath('/config'), { kind: 'config', repo: [] });
  assert.deepEqual(parseRoutePath('/r/data/'), { kind: 'list', repo: ['r'], type: 'data' });
  assert.deepEqual(parseRoutePath('/r/keys'), { kind: 'list', repo: ['r'], type: 'keys' });
  assert.deepEqual(parseRoutePath(`/a/b/snapshots/${ID}`), { kind: 'file', repo: ['a', 'b'], type: 'snapshots', name: ID });
  assert.equal(parseRequestUrl('/r/?create=true').query.get('create'), 'true');
});

test('refuses everything outside the exact shape', () => {
  const bad = [
    'r/config', '/../etc/passwd', '/r/../x/config', '/r/./config', '//r/config', '/r//data/', '/r/data/..', '/%2e%2e/config',
    '/r%2fx/config', '/r/data/' + ID.toUpperCase(), '/r/data/' + ID.slice(1), '/r/data/' + ID + 'a', '/r/data/' + 'g'.repeat(64),
    '/r\\x/config', '/r\x00/config', '/.hidden/config', '/-x/config', '/a/b/c/d/e/config', '/data/x/', '/r/data/' + ID + '/',
    '/r/config/x/', '/x y/config',
  ];
  for (const p of bad) assert.throws(() => parseRoutePath(p), RouteError, p);
});

test('a probe path is a (non-existing) repository, not an error', () => {
  assert.deepEqual(parseRoutePath('/file-1234567'), { kind: 'repo', repo: ['file-1234567'] });
});
