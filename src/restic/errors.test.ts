import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyFailure, type ResticErrorCode } from './errors.js';

// stderr as restic 0.14 prints it (captured from /usr/bin/restic 0.14.0)
const cases: [string, string, ResticErrorCode, string?][] = [
  ['snapshots', 'Fatal: wrong password or no key found', 'WRONG_PASSWORD'],
  [
    'check',
    'unable to create lock in backend: repository is already locked exclusively by PID 26753 on vm by root (UID 0, GID 0)\nlock was created at 2026-12-02 17:08:12 (989.837586ms ago)\nstorage ID 648e0e02\nthe `unlock` command can be used to remove stale locks',
    'LOCKED',
  ],
  ['snapshots', 'Fatal: unable to open config file: stat /tmp/nope/config: no such file or directory\nIs there a repository at the following location?\n/tmp/nope', 'NOT_FOUND'],
  ['snapshots', 'Fatal: unable to open config file: <config/> does not exist\nIs there a repository at the following location?\nrest:http://127.0.0.1:18231/', 'NOT_FOUND'],
  ['snapshots', 'Fatal: unable to open config file: Stat: The specified bucket does not exist.\nIs there a repository at the following location?\ns3:http://h/bucket', 'NOT_FOUND'],
  // The same "Is there a repository" text for a refused connection or denied access: not NOT_FOUND.
  [
    'snapshots',
    'Fatal: unable to open config file: client.Head: Head "http://127.0.0.1:1/config": dial tcp 127.0.0.1:1: connect: connection refused\nIs there a repository at the following location?\nrest:http://127.0.0.1:1/',
    'UNAVAILABLE',
  ],
  ['snapshots', 'Fatal: unable to open config file: Stat: Access Denied.\nIs there a repository at the following location?\ns3:https://rgw/b', 'FORBIDDEN'],
  ['snapshots', 'Fatal: unable to open config file: unexpected HTTP response (401): 401 Unauthorized\nIs there a repository at the following location?\nrest:https://h/', 'FORBIDDEN'],
  [
    'check',
    'Pack ID does not match, want 84e3fd113b0f2552639d704b748677370ef7666e88c2164fddf0109594efa602, got 778d263f4db0ec322f967df99364578e5222b581283dd3bf38262ef9a16d191c\nFatal: repository contains errors',
    'INTEGRITY',
    'Pack ID does not match',
  ],
  ['snapshots', 'Resolving password failed: Fatal: /nonexist does not exist', 'FAILED', '/nonexist does not exist'],
  ['forget', 'Fatal: something else', 'FAILED', 'something else'],
];

test('restic 0.14 stderr maps to the typed codes; only a real absence is NOT_FOUND', () => {
  for (const [command, stderr, code, inMessage] of cases) {
    const e = classifyFailure({ command, exitCode: 1, signal: null, stderr: stderr.split('\n') });
    assert.equal(e.code, code, stderr);
    assert.equal(e.command, command);
    assert.deepEqual(e.stderr, stderr.split('\n'));
    if (inMessage !== undefined) assert.match(e.message, new RegExp(inMessage.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  }
});

test('restic ≥ 0.17 exit codes 10, 11, 12 and 130 are enough on their own', () => {
  const f = (exitCode: number): ResticErrorCode => classifyFailure({ command: 'snapshots', exitCode, signal: null, stderr: [] }).code;
  assert.equal(f(10), 'NOT_FOUND');
  assert.equal(f(11), 'LOCKED');
  assert.equal(f(12), 'WRONG_PASSWORD');
  assert.equal(f(130), 'INTERRUPTED');
  assert.equal(f(1), 'FAILED');
  assert.equal(classifyFailure({ command: 'x', exitCode: null, signal: 'SIGTERM', stderr: [] }).code, 'INTERRUPTED');
  assert.equal(classifyFailure({ command: 'x', exitCode: null, signal: 'SIGSEGV', stderr: [] }).code, 'FAILED');
});
