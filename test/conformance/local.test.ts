// The local-directory backend against the conformance suite.
import assert from 'node:assert/strict';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LocalBackend, sweepStaleTemps, TMP_DIR } from '../../src/backend/local/local.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { blob, runBackendConformance } from './backend.js';

runBackendConformance('local', async () => {
  const dir = await tempDir('rwm-local-');
  return { backend: new LocalBackend(`${dir}/repo`), cleanup: () => removeDir(dir) };
});

describe('local backend specifics', () => {
  test('files sit in restic\'s layout, read-only, and stale temp files are swept', async () => {
    const dir = await tempDir('rwm-local-');
    try {
      const b = new LocalBackend(join(dir, 'repo'));
      await b.create();
      const f = blob(100);
      await b.save({ type: 'data', name: f.id }, [f.data]);
      const st = await stat(join(dir, 'repo', 'data', f.id.slice(0, 2), f.id));
      assert.equal(st.mode & 0o777, 0o400);
      const old = join(dir, 'repo', TMP_DIR, 'dead.tmp');
      const fresh = join(dir, 'repo', TMP_DIR, 'live.tmp');
      await writeFile(old, 'x');
      await writeFile(fresh, 'y');
      const past = new Date(Date.now() - 7 * 3600_000);
      await utimes(old, past, past);
      assert.equal(await sweepStaleTemps(join(dir, 'repo'), 6 * 3600_000), 1);
      assert.deepEqual(await readdir(join(dir, 'repo', TMP_DIR)), ['live.tmp']);
    } finally {
      await removeDir(dir);
    }
  });
});
