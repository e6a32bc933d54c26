import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideAccess, type AccessConfig } from './access.js';

const base: AccessConfig = { privateRepos: false, appendOnly: true, users: new Map() };

test('without private repos any user reaches any repository, append-only by default', () => {
  assert.deepEqual(decideAccess(base, 'alice', ['bob', 'x']), { allowed: true, appendOnly: true, quotaRoots: [] });
  assert.deepEqual(decideAccess(base, undefined, []), { allowed: true, appendOnly: true, quotaRoots: [] });
});

test('private repos: only /<user>/...', () => {
  const cfg = { ...base, privateRepos: true };
  assert.equal(decideAccess(cfg, 'alice', ['alice']).allowed, true);
  assert.equal(decideAccess(cfg, 'alice', ['alice', 'laptop']).allowed, true);
  assert.equal(decideAccess(cfg, 'alice', ['bob']).allowed, false);
  assert.equal(decideAccess(cfg, 'alice', ['alicex']).allowed, false);
  assert.equal(decideAccess(cfg, 'alice', []).allowed, false);
  assert.equal(decideAccess(cfg, undefined, ['alice']).allowed, false);
});

test('per-user rules override the defaults', () => {
  const cfg: AccessConfig = {
    privateRepos: true,
    appendOnly: true,
    users: new Map([
      ['alice', { repos: [['shared', 'db'], ['alice']] }],
      ['maint', { appendOnly: false }],
    ]),
  };
  assert.equal(decideAccess(cfg, 'alice', ['shared', 'db']).allowed, true);
  assert.equal(decideAccess(cfg, 'alice', ['shared']).allowed, false);
  assert.equal(decideAccess(cfg, 'alice', ['shared', 'dbx']).allowed, false);
  const m = decideAccess(cfg, 'maint', ['maint', 'r']);
  assert.ok(m.allowed && !m.appendOnly);
});
