import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Htpasswd, parseBasicAuth, parseHtpasswd } from './htpasswd.js';

test('parses bcrypt entries and warns about others', () => {
  const h = bcrypt.hashSync('pw', 4);
  const { users, warnings } = parseHtpasswd(`# comment\nalice:${h}\nbob:{SHA}abc\nbroken\n\n`);
  assert.deepEqual([...users.keys()], ['alice']);
  assert.equal(warnings.length, 2);
});

test('verifies passwords and re-reads the file when it changes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rwm-htp-'));
  const file = join(dir, '.htpasswd');
  try {
    await writeFile(file, `alice:${bcrypt.hashSync('one', 4)}\n`);
    const h = await Htpasswd.open(file);
    assert.equal(await h.verify('alice', 'one'), true);
    assert.equal(await h.verify('alice', 'one'), true); // cached
    assert.equal(await h.verify('alice', 'two'), false);
    assert.equal(await h.verify('nobody', 'one'), false);
    await new Promise((r) => setTimeout(r, 1100));
    await writeFile(file, `alice:${bcrypt.hashSync('two', 4)}\nbob:${bcrypt.hashSync('b', 4)}\n`);
    assert.equal(await h.verify('alice', 'one'), false);
    assert.equal(await h.verify('alice', 'two'), true);
    assert.equal(await h.verify('bob', 'b'), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('parses Basic authorization headers', () => {
  assert.deepEqual(parseBasicAuth(`Basic ${Buffer.from('u:p:q').toString('base64')}`), { user: 'u', password: 'p:q' });
  assert.equal(parseBasicAuth('Bearer x'), undefined);
  assert.equal(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
  assert.equal(parseBasicAuth(undefined), undefined);
});
