import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideAccess, type AccessConfig } from './access.js';

const base: AccessConfig = { privateRepos: false, appendOnly: true, users: new Map() };

test('without private repos any user reaches any repository, append-only by default', () => {
  assert.deepEqual(decideAccess(base, 'alice', ['bob', 'x']), { allowed: true, appendOnly: true, storeRepo: ['bob', 'x'], quotaRoots: [] });
  assert.deepEqual(decideAccess(base, undefined, []), { allowed: true, appendOnly: true, storeRepo: [], quotaRoots: [] });
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

test('a user\'s root maps every URL path below it, and confines the user there', () => {
  const cfg: AccessConfig = {
    privateRepos: true,
    appendOnly: true,
    users: new Map([
      ['alice', { root: ['customers', 'acme'] }],
      ['bob', { root: ['hosts'], repos: [['web1']] }],
    ]),
  };
  assert.deepEqual(decideAccess(cfg, 'alice', ['laptop']), { allowed: true, appendOnly: true, storeRepo: ['customers', 'acme', 'laptop'], quotaRoots: [['customers', 'acme']] });
  assert.deepEqual(decideAccess(cfg, 'alice', []), { allowed: true, appendOnly: true, storeRepo: ['customers', 'acme'], quotaRoots: [['customers', 'acme']] });
  assert.deepEqual(decideAccess(cfg, 'alice', ['alice']).allowed && decideAccess(cfg, 'alice', ['alice']), { allowed: true, appendOnly: true, storeRepo: ['customers', 'acme', 'alice'], quotaRoots: [['customers', 'acme']] });
  const b = decideAccess(cfg, 'bob', ['web1', 'etc']);
  assert.ok(b.allowed);
  assert.deepEqual(b.storeRepo, ['hosts', 'web1', 'etc']);
  assert.deepEqual(b.quotaRoots, [['hosts', 'web1']]);
  assert.equal(decideAccess(cfg, 'bob', ['web2']).allowed, false);
});
