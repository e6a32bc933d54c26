import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareKeys, isLockKey, isRwmKey, keyPrefix, parseResticKey } from './names.js';

const id = (c: string): string => c.repeat(64);
const pack = `ab${'c'.repeat(62)}`;

describe('parseResticKey', () => {
  test('each of restic\'s file types at the top of the prefix', () => {
    assert.deepEqual(parseResticKey('config'), { repo: '', kind: 'config', misplaced: false });
    assert.deepEqual(parseResticKey(`data/ab/${pack}`), { repo: '', kind: 'data', id: pack, misplaced: false });
    for (const kind of ['keys', 'index', 'snapshots', 'locks'] as const) {
      assert.deepEqual(parseResticKey(`${kind}/${id('1')}`), { repo: '', kind, id: id('1'), misplaced: false });
    }
  });

  test('nested repositories: the repository is the key prefix before restic\'s part', () => {
    assert.deepEqual(parseResticKey('hosts/web1/config'), { repo: 'hosts/web1/', kind: 'config', misplaced: false });
    assert.deepEqual(parseResticKey(`hosts/web1/data/ab/${pack}`), { repo: 'hosts/web1/', kind: 'data', id: pack, misplaced: false });
    assert.deepEqual(parseResticKey(`a/b/c/snapshots/${id('2')}`), { repo: 'a/b/c/', kind: 'snapshots', id: id('2'), misplaced: false });
    // A repository may be named like one of restic's directories.
    assert.deepEqual(parseResticKey(`data/keys/${id('3')}`), { repo: 'data/', kind: 'keys', id: id('3'), misplaced: false });
  });

  test('a pack under another pack\'s shard is restic\'s but misplaced', () => {
    assert.deepEqual(parseResticKey(`data/01/${pack}`), { repo: '', kind: 'data', id: pack, misplaced: true });
    assert.equal(parseResticKey(`r/data/ff/${pack}`)?.misplaced, true);
  });

  test('rwm\'s own keys are not restic\'s, at any depth', () => {
    assert.equal(parseResticKey('.rwm/config'), undefined);
    assert.equal(parseResticKey(`.rwm/keys/${id('1')}`), undefined);
    assert.equal(parseResticKey('repo/.rwm/config'), undefined);
    assert.equal(parseResticKey(`a/.rwm/b/index/${id('1')}`), undefined);
  });

  test('keys that are not restic\'s', () => {
    for (const k of [
      '',
      'README',
      'config.bak',
      'configx',
      'xconfig',
      'repo/config/',
      `data/${pack}`, // no shard
      `data/ab/${pack}x`,
      `data/ab/${pack.slice(1)}`, // 63 characters
      `data/AB/${pack.toUpperCase()}`, // restic writes lower case
      `data/0g/${pack}`,
      `keys/${id('g')}`,
      `keys/${id('1')}/x`,
      `other/${id('1')}`,
      `snapshots/${id('1')}.tmp`,
      '/config', // an empty segment
      `a//keys/${id('1')}`,
      'locks/',
    ]) {
      assert.equal(parseResticKey(k), undefined, JSON.stringify(k));
    }
  });

  test('isRwmKey, isLockKey, keyPrefix', () => {
    assert.equal(isRwmKey('.rwm/state/x'), true);
    assert.equal(isRwmKey('repo/.rwm/state/x'), true);
    assert.equal(isRwmKey('.rwmx/state'), false);
    assert.equal(isRwmKey('repo.rwm/x'), false);
    assert.equal(isLockKey(`locks/${id('1')}`), true);
    assert.equal(isLockKey(`r/locks/${id('1')}`), true);
    assert.equal(isLockKey('locks/not-an-id'), false);
    assert.equal(isLockKey(`keys/${id('1')}`), false);
    assert.equal(keyPrefix(''), '');
    assert.equal(keyPrefix('a/b'), 'a/b/');
  });
});

describe('compareKeys', () => {
  test('S3\'s order: by UTF-8 bytes', () => {
    const keys = ['b', 'a/b', 'a', 'a.b', 'a0', 'A', '~', '\u00e9', '\uff61', '\u{1f600}', 'a/', ''];
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D...) before U+FF61; UTF-8 does not.
    assert.ok('\u{1f600}' < '\uff61');
    assert.deepEqual([...keys].sort(compareKeys), ['', 'A', 'a', 'a.b', 'a/', 'a/b', 'a0', 'b', '~', '\u00e9', '\uff61', '\u{1f600}']);
    const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...keys].sort(compareKeys), bytes);
  });

  test('is a consistent comparison', () => {
    for (const [a, b] of [
      ['x', 'x'],
      ['\u00e9', '\u00e9'],
      ['a', '\u00e9'],
      ['\uff61', '\u{1f600}'],
      ['a/b', 'a.b'],
    ] as const) {
      assert.equal(Math.sign(compareKeys(a, b)) + Math.sign(compareKeys(b, a)), 0);
      assert.equal(compareKeys(a, b) === 0, a === b);
    }
  });
});
