// The worker-thread hasher rwm scrub --path uses: the same digest as node:crypto on the main thread,
// the head bytes key files are parsed from, symlinks refused, errors per file, an idle pool does not
// keep the process alive.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HashPool } from './hash-pool.js';

describe('HashPool', () => {
  let dir: string;
  const pool = new HashPool(2);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-hash-pool-'));
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('digests, sizes and heads of many files at once equal node:crypto\'s on the main thread', async () => {
    const bodies = [Buffer.alloc(0), randomBytes(1), randomBytes((1 << 20) - 1), randomBytes(1 << 20), randomBytes((3 << 20) + 17)];
    for (let i = 0; i < 20; i++) bodies.push(randomBytes(1 + Math.floor(Math.random() * 100_000)));
    await Promise.all(bodies.map((b, i) => writeFile(join(dir, `f${i}`), b)));
    const got = await Promise.all(bodies.map((_, i) => pool.hash(join(dir, `f${i}`), 4096)));
    for (const [i, b] of bodies.entries()) {
      const g = got[i];
      assert.ok(g !== undefined);
      assert.equal(g.sha256, createHash('sha256').update(b).digest('hex'), `f${i}`);
      assert.equal(g.bytes, b.length);
      assert.deepEqual(g.head, b.subarray(0, 4096));
    }
  });

  test('a symlink is not followed, a missing file fails, and the pool goes on working', async () => {
    await writeFile(join(dir, 'target'), 'x');
    await symlink(join(dir, 'target'), join(dir, 'link'));
    await assert.rejects(pool.hash(join(dir, 'link'), 0), /ELOOP|symbolic/);
    await assert.rejects(pool.hash(join(dir, 'missing'), 0), /ENOENT/);
    assert.equal((await pool.hash(join(dir, 'target'), 0)).sha256, createHash('sha256').update('x').digest('hex'));
  });
});
