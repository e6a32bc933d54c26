import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBackupLine } from './backup.js';
import { checkSaysOk } from './check.js';
import { forgetSchema, splitForgetOutput } from './forget.js';
import { snapshotsSchema } from './snapshots.js';
import { statsSchema } from './stats.js';
import { isOlder, parseResticVersion } from './version.js';

const h = (c: string): string => c.repeat(64);
// as restic 0.14 prints them
const snap = { time: '2026-12-02T16:59:39.035627274Z', tree: h('f'), paths: ['/tmp/rp/data'], hostname: 'h1', username: 'root', tags: ['t1'], id: h('9'), short_id: '99999999' };
const snap2 = { time: '2026-12-02T16:59:39.776665849+01:00', parent: h('9'), tree: h('f'), paths: ['/tmp/rp/data'], hostname: 'h1', username: 'root', id: h('0'), short_id: '00000000' };

test('snapshots: 0.14 output parses; tags and parent optional; newer fields tolerated', () => {
  const out = snapshotsSchema.parse(JSON.parse(JSON.stringify([snap, snap2, { ...snap2, program_version: 'restic 0.17.3', summary: { files_new: 1 } }])));
  assert.equal(out.length, 3);
  assert.deepEqual(out[0]?.tags, ['t1']);
  assert.equal(out[1]?.tags, undefined);
  assert.equal(out[1]?.parent, h('9'));
  assert.deepEqual(out[2]?.summary, { files_new: 1 });
  assert.equal(snapshotsSchema.safeParse([{ ...snap, id: 'nothex' }]).success, false);
  assert.equal(snapshotsSchema.safeParse([{ ...snap, paths: undefined }]).success, false);
});

test('forget: groups with keep/remove/reasons; nulls become empty lists; prune text split off', () => {
  const reasonSnap = { time: snap2.time, parent: h('9'), tree: h('f'), paths: ['/tmp/rp/data'], hostname: 'h1', username: 'root', tags: ['t1'] };
  const line = JSON.stringify([
    { tags: null, host: 'h1', paths: ['/tmp/rp/data'], keep: [snap2], remove: [snap], reasons: [{ snapshot: reasonSnap, matches: ['last snapshot'], counters: {} }] },
    { tags: null, host: 'vm', paths: ['/x'], keep: [snap], remove: null, reasons: [{ snapshot: reasonSnap, matches: ['last snapshot'], counters: { last: 1 } }] },
  ]);
  const { json, rest } = splitForgetOutput(`${line}\nloading indexes...\n\nto delete:  194 blobs / 300.022 MiB\ndone\n`);
  assert.equal(json, line);
  assert.deepEqual(rest, ['loading indexes...', 'to delete:  194 blobs / 300.022 MiB', 'done']);
  const groups = forgetSchema.parse(JSON.parse(json ?? ''));
  assert.equal(groups[0]?.remove[0]?.id, h('9'));
  assert.deepEqual(groups[1]?.remove, []);
  assert.deepEqual(splitForgetOutput(''), { json: undefined, rest: [] });
});

test('stats: the restore-size and raw-data shapes', () => {
  assert.deepEqual(statsSchema.parse({ total_size: 12, total_file_count: 6, snapshots_count: 2 }), { total_size: 12, total_file_count: 6, snapshots_count: 2 });
  assert.equal(statsSchema.parse({ total_size: 636, total_file_count: 0, total_blob_count: 4, snapshots_count: 2 }).total_blob_count, 4);
  assert.equal(statsSchema.safeParse({ total_size: -1, total_file_count: 0 }).success, false);
});

test('backup lines: status, summary, errors; unknown types and non-JSON are skipped; a malformed summary throws', () => {
  assert.equal(parseBackupLine('{"message_type":"status","percent_done":0,"total_files":1,"total_bytes":3}')?.message_type, 'status');
  const s = parseBackupLine(
    '{"message_type":"summary","files_new":2,"files_changed":0,"files_unmodified":0,"dirs_new":1,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":2,"tree_blobs":2,"data_added":1047,"total_files_processed":2,"total_bytes_processed":6,"total_duration":0.254981074,"snapshot_id":"986cf2bc"}',
  );
  assert.equal(s?.message_type === 'summary' ? s.snapshot_id : undefined, '986cf2bc');
  assert.equal(parseBackupLine('{"message_type":"error","error":{},"during":"archival","item":"/etc/shadow"}')?.message_type, 'error');
  assert.equal(parseBackupLine('{"message_type":"exit_error","code":1}'), undefined);
  assert.equal(parseBackupLine('some text'), undefined);
  assert.equal(parseBackupLine(''), undefined);
  assert.throws(() => parseBackupLine('{"message_type":"summary","files_new":"two"}'));
});

test('version: restic 0.14 text, dev builds, garbage; comparison', () => {
  assert.deepEqual(parseResticVersion('restic 0.14.0 compiled with go1.19.8 on linux/amd64\n'), {
    major: 0,
    minor: 14,
    patch: 0,
    version: '0.14.0',
    go: 'go1.19.8',
    platform: 'linux/amd64',
  });
  assert.equal(parseResticVersion('restic 0.16.4-dev (compiled manually) compiled with go1.22 on linux/arm64')?.version, '0.16.4-dev');
  assert.equal(parseResticVersion('rclone v1.60'), undefined);
  assert.equal(isOlder({ major: 0, minor: 12, patch: 1 }, { major: 0, minor: 14, patch: 0 }), true);
  assert.equal(isOlder({ major: 0, minor: 14, patch: 0 }, { major: 0, minor: 14, patch: 0 }), false);
  assert.equal(isOlder({ major: 1, minor: 0, patch: 0 }, { major: 0, minor: 14, patch: 0 }), false);
});

test('check: the success line', () => {
  assert.equal(checkSaysOk('load indexes\ncheck all packs\n\nno errors were found\n'), true);
  assert.equal(checkSaysOk('load indexes\n'), false);
});
