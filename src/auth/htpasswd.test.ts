import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { AuthBusyError, Htpasswd, parseBasicAuth, parseHtpasswd, typicalCost } from './htpasswd.js';

test('parses bcrypt and {SHA} entries (what rest-server accepts) and warns about others', () => {
  const h = bcrypt.hashSync('pw', 4);
  const sha = `{SHA}${createHash('sha1').update('pw').digest('base64')}`;
  const { users, warnings } = parseHtpasswd(`# comment\nalice:${h}\nbob:{SHA}abc\ncarol:${sha}\ndave:$apr1$abc$def\nbroken\n\n`);
  assert.deepEqual([...users.keys()], ['alice', 'carol']);
  assert.deepEqual(warnings.map((w) => w.line), [3, 4, 5, 6]);
  assert.match(warnings[1]?.message ?? '', /carol.*weak/);
});

test('{SHA} entries (htpasswd -s) verify, compared in constant time', async () => {
  const sha = (p: string): string => `{SHA}${createHash('sha1').update(p).digest('base64')}`;
  await withFile(`carol:${sha('secret')}\nalice:${bcrypt.hashSync('pw', 4)}\n`, async (file) => {
    const h = await Htpasswd.open(file);
    assert.equal(h.userCount, 2);
    assert.equal(await h.verify('carol', 'secret'), true);
    assert.equal(await h.verify('carol', 'Secret'), false);
    assert.equal(await h.verify('alice', 'pw'), true);
    assert.equal(await h.verify('alice', 'secret'), false);
  });
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

async function withFile(text: string, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rwm-htp-'));
  try {
    const file = join(dir, '.htpasswd');
    await writeFile(file, text);
    await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function median(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)] ?? 0;
}

test('the dummy hash of unknown users has the cost of the file\'s hashes', async () => {
  assert.equal(typicalCost([bcrypt.hashSync('a', 5), bcrypt.hashSync('b', 5), bcrypt.hashSync('c', 4)]), 5);
  assert.equal(typicalCost([]), 4);
  // htpasswd -B writes cost 5; a cost-10 dummy made unknown users 20 times slower than known ones.
  await withFile(`alice:${bcrypt.hashSync('pw', 5)}\nbob:${bcrypt.hashSync('pw', 5)}\n`, async (file) => {
    const h = await Htpasswd.open(file);
    await h.verify('warm-up', 'x');
    const known = await median(9, (i) => h.verify('alice', `wrong-${i}`));
    const unknown = await median(9, (i) => h.verify(`nobody-${i}`, `wrong-${i}`));
    assert.ok(unknown < known * 2.5 + 3, `unknown users take ${unknown.toFixed(1)} ms, known ones ${known.toFixed(1)} ms`);
  });
});

test('refused credentials are cached briefly: repeating them costs no bcrypt', async () => {
  await withFile(`alice:${bcrypt.hashSync('pw', 10)}\n`, async (file) => {
    const h = await Htpasswd.open(file);
    for (const user of ['alice', 'nobody']) {
      const first = await median(1, () => h.verify(user, 'wrong'));
      const again = await median(5, () => h.verify(user, 'wrong'));
      assert.ok(again < first / 5, `${user}: first ${first.toFixed(1)} ms, repeated ${again.toFixed(1)} ms`);
      assert.equal(await h.verify(user, 'wrong'), false);
    }
    assert.equal(await h.verify('alice', 'pw'), true, 'the right password is not affected');
  });
});

test('at most maxConcurrent password checks run at once; more fail fast with AuthBusyError', async () => {
  await withFile(`alice:${bcrypt.hashSync('pw', 8)}\n`, async (file) => {
    const h = await Htpasswd.open(file, undefined, { maxConcurrent: 2 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => h.verify(i % 2 ? 'alice' : `u${i}`, `wrong-${i}`)));
    const busy = results.filter((r) => r.status === 'rejected');
    assert.ok(busy.length >= 7, `${busy.length} of 10 refused as busy`);
    for (const r of busy) assert.ok(r.reason instanceof AuthBusyError);
    for (const r of results) if (r.status === 'fulfilled') assert.equal(r.value, false);
    assert.equal(await h.verify('alice', 'pw'), true, 'checks run again once the others finished');
  });
});

test('a file that cannot be read keeps the old users; a deleted file revokes them all; each is reported once', async () => {
  await withFile(`alice:${bcrypt.hashSync('pw', 4)}\n`, async (file) => {
    const warnings: string[] = [];
    const h = await Htpasswd.open(file, (w) => warnings.push(w.message), { recheckMs: 0 });
    assert.equal(await h.verify('alice', 'pw'), true);
    // replaced by a directory: reading fails
    await rm(file);
    await mkdir(file);
    for (let i = 0; i < 3; i++) assert.equal(await h.verify('alice', 'pw'), true);
    assert.equal(await h.verify('alice', 'wrong'), false);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /cannot read.*keeping the 1 users/);
    // deleted: everyone is refused, cached successes included
    await rm(file, { recursive: true });
    for (let i = 0; i < 3; i++) assert.equal(await h.verify('alice', 'pw'), false);
    assert.equal(h.userCount, 0);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[1] ?? '', /gone: every user is refused/);
    // back again
    await writeFile(file, `bob:${bcrypt.hashSync('b', 4)}\n`);
    assert.equal(await h.verify('bob', 'b'), true);
    assert.equal(await h.verify('alice', 'pw'), false);
  });
});
