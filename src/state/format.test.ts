import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openState, STATE_NAME_RE, StateFormatError, stateName, stateNameTime, writeStateFile, type StateEntry } from './format.js';

const base = { bucket: 'b', prefix: 'p', created: '2026-05-01T12:00:00.000Z', writer: { tool: 'rwm 0.1.0', host: 'trusted', command: 'state save' } };

const entry = (key: string, i = 0, dm = false): StateEntry => ({ key, versionId: `v${i}`, deleteMarker: dm, size: dm ? 0 : 100 + i, etag: dm ? '' : `${i}`.padStart(32, '0'), lastModified: Date.parse('2026-04-01T00:00:00Z') + i, owner: i % 2 === 0 ? 'admin' : '' });

async function* from(items: readonly StateEntry[]): AsyncGenerator<StateEntry> {
  yield* items;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const isFormatError = (err: unknown): boolean => err instanceof StateFormatError;

describe('state format', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rwm-format-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('round trip: every field, sorted by key in byte order, header with the counts', async () => {
    const entries = [entry('a', 1), entry('a/b', 2), entry('a0', 3, true), entry('z', 4), entry('\u00e9', 5), entry('\u{1f600}', 6, true), entry('\uff61', 7)].sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
    const file = join(dir, 'rt.jsonl.gz');
    const w = await writeStateFile(file, base, from(entries));
    assert.deepEqual(w.header, { format: 'rwm-state', version: 1, ...base, objects: 5, deleteMarkers: 2, bytes: 101 + 102 + 104 + 105 + 107 });
    assert.equal(w.file, file);
    assert.equal(w.size, (await readFile(file)).length);
    const st = await openState(createReadStream(file), file);
    assert.deepEqual(st.header, w.header);
    assert.deepEqual(await collect(st.entries), entries);
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('partial')), [], 'no partial files left');
  });

  test('an empty state has a header and no entries', async () => {
    const file = join(dir, 'empty.jsonl.gz');
    const w = await writeStateFile(file, base, from([]));
    assert.equal(w.header.objects, 0);
    const st = await openState(createReadStream(file), file);
    assert.deepEqual(await collect(st.entries), []);
  });

  test('entries out of order, or a key twice, are refused and no file appears', async () => {
    for (const [name, entries] of [
      ['unsorted', [entry('b'), entry('a')]],
      ['twice', [entry('a'), entry('a', 1)]],
      ['utf16-order', [entry('\u{1f600}'), entry('\uff61')]],
    ] as const) {
      const file = join(dir, `${name}.jsonl.gz`);
      await assert.rejects(writeStateFile(file, base, from(entries)), isFormatError, name);
      assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith(name)), [], `${name}: nothing left behind`);
    }
  });

  test('garbage, truncated files and wrong headers give StateFormatError', async () => {
    const file = join(dir, 'good.jsonl.gz');
    await writeStateFile(file, base, from(Array.from({ length: 2000 }, (_, i) => entry(`k${String(i).padStart(5, '0')}`, i))));
    const good = await readFile(file);
    const header = JSON.stringify({ format: 'rwm-state', version: 1, ...base, objects: 1, deleteMarkers: 0, bytes: 1 });
    const cases: [string, Buffer][] = [
      ['empty file', Buffer.alloc(0)],
      ['not gzip', Buffer.from('{"format":"rwm-state"}\n')],
      ['garbage', Buffer.from('\x1f\x8b\x08\x00garbage garbage garbage')],
      ['truncated in the header', good.subarray(0, 20)],
      ['truncated in the entries', good.subarray(0, Math.floor(good.length / 2))],
      ['truncated at the end', good.subarray(0, good.length - 4)],
      ['gzip of nothing', gzipSync('')],
      ['not JSON', gzipSync('hello\n')],
      ['another format', gzipSync(`${JSON.stringify({ format: 'something', version: 1 })}\n`)],
      ['a later version', gzipSync(`${header.replace('"version":1', '"version":2')}\n`)],
      ['a header without counts', gzipSync(`${JSON.stringify({ format: 'rwm-state', version: 1, ...base })}\n`)],
      ['an entry that is not JSON', gzipSync(`${header}\n{"key":\n`)],
      ['an entry without a version', gzipSync(`${header}\n{"key":"a","lastModified":"2026-01-01T00:00:00Z","size":1,"etag":"x"}\n`)],
      ['an entry without a size', gzipSync(`${header}\n{"key":"a","versionId":"v","lastModified":"2026-01-01T00:00:00Z","etag":"x"}\n`)],
      ['an entry with a bad time', gzipSync(`${header}\n{"key":"a","versionId":"v","lastModified":"soon","size":1,"etag":"x"}\n`)],
      ['entries out of order', gzipSync(`${header}\n{"key":"b","versionId":"v","deleteMarker":true,"lastModified":"2026-01-01T00:00:00Z"}\n{"key":"a","versionId":"v","deleteMarker":true,"lastModified":"2026-01-01T00:00:00Z"}\n`)],
    ];
    for (const [what, bytes] of cases) {
      await assert.rejects(
        (async () => {
          const st = await openState(Readable.from([bytes]), what);
          await collect(st.entries);
        })(),
        (err: unknown) => {
          assert.ok(isFormatError(err), `${what}: expected StateFormatError, got ${String(err)}`);
          assert.ok((err as Error).message.startsWith(what), `${what}: the message names the file: ${(err as Error).message}`);
          return true;
        },
      );
    }
  });

  test('a read error of the input is a StateFormatError too', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await assert.rejects(openState(failing, 'failing'), isFormatError);
  });

  test('200k entries are written and read back streaming', async () => {
    const file = join(dir, 'big.jsonl.gz');
    const n = 200_000;
    let peak = 0;
    const start = process.memoryUsage().heapUsed;
    async function* sorted(): AsyncGenerator<StateEntry> {
      for (let i = 0; i < n; i++) {
        if (i % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - start);
        yield entry(`repo/data/${String(i).padStart(10, '0')}/${'f'.repeat(54)}`, i);
      }
    }
    const w = await writeStateFile(file, base, sorted());
    assert.equal(w.header.objects, n);
    // Reading 200k entries through the test runner's async hooks is slow; count the lines instead,
    // and read the first few as entries.
    assert.equal(gunzipSync(await readFile(file)).toString('utf8').split('\n').filter((l) => l !== '').length, n + 1);
    const st = await openState(createReadStream(file), file);
    let read = 0;
    for await (const e of st.entries) {
      assert.equal(e.versionId, `v${read}`);
      if (++read === 1000) break;
    }
    assert.ok(peak < 150 * 1024 * 1024, `the heap grew by ${Math.round(peak / 1048576)} MiB while writing`);
  });

  test('an entry line that is cut off is refused, however it is cut', async () => {
    const header = JSON.stringify({ format: 'rwm-state', version: 1, ...base, objects: 1, deleteMarkers: 0, bytes: 1 });
    await writeFile(join(dir, 'cut.jsonl.gz'), gzipSync(`${header}\n{"key":"a","versionId":"v","size":1,"etag":"x","lastMod`));
    await assert.rejects(collect((await openState(createReadStream(join(dir, 'cut.jsonl.gz')), 'cut')).entries), isFormatError);
  });
});

describe('state names', () => {
  test('sort by time, never collide, and give their time back', () => {
    const t = new Date('2026-05-01T12:34:56.789Z');
    const name = stateName(t, '0123abcd4567ef89');
    assert.equal(name, '20260501T123456.789Z-0123abcd4567ef89');
    assert.match(name, STATE_NAME_RE);
    assert.equal(stateNameTime(name), t.getTime());
    assert.ok(stateName(new Date('2026-05-01T12:34:57Z'), '00000000') > name);
    assert.ok(Number.isNaN(stateNameTime('latest')));
    assert.doesNotMatch('../../etc/passwd', STATE_NAME_RE);
  });
});
