import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessConfig, UserRule } from './access.js';
import { checkUserRules } from './rules-check.js';

const cfg = (privateRepos: boolean, users: Record<string, UserRule>): AccessConfig => ({ privateRepos, appendOnly: true, users: new Map(Object.entries(users)) });

test('a quota on a user who may write anywhere is refused: it could not be measured', () => {
  const r = checkUserRules(cfg(false, { alice: { maxSize: 1000 } }));
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0] ?? '', /user "alice": maxSize needs root or repos/);
  assert.deepEqual(checkUserRules(cfg(true, { alice: { maxSize: 1000 } })).errors, []);
  assert.deepEqual(checkUserRules(cfg(false, { alice: { maxSize: 1000, root: ['a'] } })).errors, []);
  assert.deepEqual(checkUserRules(cfg(false, { alice: { maxSize: 1000, repos: [['a']] } })).errors, []);
});

test('a user whose repositories lie inside another user\'s namespace is warned about', () => {
  const r = checkUserRules(cfg(true, { alice: { root: ['bob', 'alice'] }, bob: {} }));
  assert.deepEqual(r.warnings, ['user "alice": /bob/alice in the store lies inside user "bob"\'s /bob: "bob" can read and add to "alice"\'s repositories']);
  const repos = checkUserRules(cfg(false, { alice: { root: ['hosts'], repos: [['web1']] }, bob: { root: ['hosts'] } }));
  assert.equal(repos.warnings.length, 1);
  assert.match(repos.warnings[0] ?? '', /\/hosts\/web1 .* "bob"'s \/hosts/);
  // apart, or nested the other way round only (bob inside alice is warned about as bob's)
  assert.deepEqual(checkUserRules(cfg(true, { alice: { root: ['customers', 'a'] }, bob: { root: ['customers', 'b'] } })).warnings, []);
  assert.deepEqual(checkUserRules(cfg(false, { alice: { root: ['x'] }, bob: {} })).warnings, [], 'bob may reach everything: the config says so plainly');
});
