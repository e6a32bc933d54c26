import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffStates, type Change } from './diff.js';
import type { StateEntry } from './format.js';

const id = (c: string): string => c.repeat(64);
const packId = `ab${'0'.repeat(62)}`;

function e(key: string, versionId: string, etag = `etag-${versionId}`, size = 10): StateEntry {
  return { key, versionId, deleteMarker: false, size, etag, lastModified: 1, owner: 'o' };
}
function marker(key: string, versionId: string): StateEntry {
  return { key, versionId, deleteMarker: true, size: 0, etag: '', lastModified: 1, owner: 'o' };
}

async function* from(items: readonly StateEntry[]): AsyncGenerator<StateEntry> {
  yield* [...items].sort((a, b) => (a.key < b.key ? -1 : 1));
}

async function diff(a: readonly StateEntry[], b: readonly StateEntry[], prefix = ''): Promise<Change[]> {
  const out: Change[] = [];
  for await (const c of diffStates(from(a), from(b), prefix)) out.push(c);
  return out;
}

const brief = (cs: Change[]): string[] => cs.map((c) => `${c.kind} ${c.severity} ${c.type} ${c.key}`);

describe('diffStates', () => {
  test('added, changed, deleted and rewritten (same size and ETag, another version)', async () => {
    const from1 = [e(`index/${id('1')}`, 'v1'), e(`index/${id('2')}`, 'v2'), e(`index/${id('3')}`, 'v3', 'same', 42), e(`index/${id('4')}`, 'v4')];
    const to1 = [e(`index/${id('1')}`, 'v1'), e(`index/${id('2')}`, 'v2b'), e(`index/${id('3')}`, 'v3b', 'same', 42), e(`index/${id('5')}`, 'v5')];
    const cs = await diff(from1, to1);
    assert.deepEqual(brief(cs), [
      `changed tampering index index/${id('2')}`,
      `rewritten normal index index/${id('3')}`,
      `deleted normal index index/${id('4')}`,
      `added normal index index/${id('5')}`,
    ]);
    const changed = cs[0] as Change;
    assert.equal(changed.id, id('2'));
    assert.equal(changed.from?.versionId, 'v2');
    assert.equal(changed.to?.versionId, 'v2b');
    assert.equal(cs[2]?.to, undefined);
    assert.equal(cs[3]?.from, undefined);
  });

  test('the same version is no change; a delete marker is absence', async () => {
    const k = `snapshots/${id('1')}`;
    assert.deepEqual(await diff([e(k, 'v1')], [e(k, 'v1')]), []);
    assert.deepEqual(await diff([marker(k, 'm1')], []), []);
    assert.deepEqual(await diff([marker(k, 'm1')], [marker(k, 'm2')]), []);
    assert.deepEqual(brief(await diff([e(k, 'v1')], [marker(k, 'm1')])), [`deleted normal snapshots ${k}`]);
    assert.deepEqual(brief(await diff([marker(k, 'm1')], [e(k, 'v2')])), [`added normal snapshots ${k}`]);
    // The same bytes back under a new version after a delete is "added", not tampering.
    assert.deepEqual(brief(await diff([marker(k, 'm1')], [e(k, 'v2', 'etag-v1')])), [`added normal snapshots ${k}`]);
  });

  test('an ETag that is empty is not the same content', async () => {
    const k = `data/ab/${packId}`;
    assert.deepEqual(brief(await diff([e(k, 'v1', '', 5)], [e(k, 'v2', '', 5)])), [`changed tampering data ${k}`]);
  });

  test('severities per restic type', async () => {
    const before = [
      e('config', 'c1'),
      e(`keys/${id('1')}`, 'k1'),
      e(`keys/${id('2')}`, 'k2'),
      e(`data/ab/${packId}`, 'd1'),
      e(`snapshots/${id('1')}`, 's1'),
      e(`snapshots/${id('2')}`, 's2'),
      e(`index/${id('1')}`, 'i1'),
    ];
    const after = [
      e('config', 'c2'), // changed config
      e(`keys/${id('1')}`, 'k1b'), // changed key file
      // keys/2 deleted
      e(`keys/${id('3')}`, 'k3'), // added key
      e(`data/ab/${packId}`, 'd2'), // changed pack
      e(`snapshots/${id('1')}`, 's1b'), // changed snapshot
      // snapshots/2 deleted (a forget)
      e(`snapshots/${id('3')}`, 's3'), // a new backup
      // index/1 deleted (a prune)
      e(`index/${id('2')}`, 'i2'),
    ];
    const sev = new Map((await diff(before, after)).map((c) => [c.key, `${c.kind} ${c.severity}`]));
    assert.equal(sev.get('config'), 'changed alarm');
    assert.equal(sev.get(`keys/${id('1')}`), 'changed tampering', 'a key file is named by its hash too');
    assert.equal(sev.get(`keys/${id('2')}`), 'deleted alarm');
    assert.equal(sev.get(`keys/${id('3')}`), 'added alarm');
    assert.equal(sev.get(`data/ab/${packId}`), 'changed tampering');
    assert.equal(sev.get(`snapshots/${id('1')}`), 'changed tampering');
    assert.equal(sev.get(`snapshots/${id('2')}`), 'deleted normal');
    assert.equal(sev.get(`snapshots/${id('3')}`), 'added normal');
    assert.equal(sev.get(`index/${id('1')}`), 'deleted normal');
    assert.equal(sev.get(`index/${id('2')}`), 'added normal');
    assert.equal(sev.size, 10);
    assert.deepEqual(brief(await diff([e('config', 'c1')], [])), ['deleted alarm config config']);
    assert.deepEqual(brief(await diff([], [e('config', 'c1')])), ['added alarm config config']);
    assert.deepEqual(brief(await diff([e('config', 'c1', 'x', 1)], [e('config', 'c2', 'x', 1)])), ['rewritten normal config config']);
  });

  test('locks and rwm\'s own keys are left out', async () => {
    const before = [e(`locks/${id('1')}`, 'l1'), e('.rwm/state/a.jsonl.gz', 'r1'), e(`r/locks/${id('2')}`, 'l2')];
    const after = [e(`locks/${id('1')}`, 'l1b'), e(`locks/${id('3')}`, 'l3'), e('.rwm/state/b.jsonl.gz', 'r2'), e('r/.rwm/x', 'r3')];
    assert.deepEqual(await diff(before, after), []);
  });

  test('keys that are not restic\'s are reported as foreign', async () => {
    const cs = await diff([e('README', 'a1'), e('notes.txt', 'n1'), e('old.txt', 'o1')], [e('README', 'a2'), e('notes.txt', 'n1'), e('evil.sh', 'x1')]);
    const by = new Map(cs.map((c) => [c.key, c]));
    assert.equal(by.get('evil.sh')?.type, 'foreign');
    assert.equal(by.get('evil.sh')?.kind, 'added');
    assert.equal(by.get('evil.sh')?.severity, 'alarm', 'something that is not restic\'s appeared');
    assert.equal(by.get('evil.sh')?.id, undefined);
    assert.equal(by.get('README')?.kind, 'changed');
    assert.notEqual(by.get('README')?.severity, 'normal');
    assert.equal(by.get('old.txt')?.kind, 'deleted');
    assert.equal(by.has('notes.txt'), false);
  });

  test('keys are classified relative to the prefix, nested repositories included', async () => {
    const cs = await diff([e('p/config', 'c1'), e(`p/host/keys/${id('1')}`, 'k1')], [e('p/config', 'c2'), e(`p/host/keys/${id('1')}`, 'k1'), e(`p/host/snapshots/${id('2')}`, 's2'), e(`p/host/locks/${id('4')}`, 'l')], 'p/');
    assert.deepEqual(brief(cs), ['changed alarm config p/config', `added normal snapshots p/host/snapshots/${id('2')}`]);
    assert.equal(cs[1]?.id, id('2'));
  });
});
