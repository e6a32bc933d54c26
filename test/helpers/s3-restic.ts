// restic and the S3 test server: `rwm serve --s3` with the backup user's keys, restic's own s3:
// backend with the admin's keys, and a check that a refused `forget` changed no object version.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, type RunningServer } from './server.js';
import type { S3TestEnv, VersionEntry } from './s3.js';

export interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The environment variables restic's s3: backend and `rwm serve --s3` read their keys from. */
export function keysEnv(keys: Keys): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey };
}

/** The --s3 flags for the test server (the keys go in the environment, never in argv). */
export function s3Flags(env: S3TestEnv, bucketAndPrefix: string): string[] {
  return ['--s3', bucketAndPrefix, '--s3-endpoint', env.endpoint, '--s3-region', env.region];
}

/** `rwm serve --s3 BUCKET/PREFIX` over HTTP, with the backup user's keys. */
export function startS3Server(env: S3TestEnv, bucketAndPrefix: string, extraArgs: string[]): Promise<RunningServer> {
  return startServer('', [...s3Flags(env, bucketAndPrefix), ...extraArgs], keysEnv(env.backup));
}

/** restic's own S3 backend on BUCKET/KEY (path-style, as the trusted host would use it). */
export function directRepo(env: S3TestEnv, bucket: string, key: string): string {
  return `s3:${env.endpoint.replace(/\/+$/, '')}/${bucket}/${key}`;
}

/** Writes a bcrypt htpasswd entry (a new file unless `create` is false), the password on stdin (not in argv). */
export function writeHtpasswd(file: string, user: string, password: string, create = true): void {
  execFileSync('htpasswd', ['-B', ...(create ? ['-c'] : []), '-i', file, user], { input: password, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** The snapshot ids in `restic snapshots --json` output. */
export function snapshotIds(json: string): string[] {
  return (JSON.parse(json) as { id: string }[]).map((s) => s.id);
}

const versionKey = (v: VersionEntry): string => `${v.key}\u0000${v.versionId}`;

/**
 * Asserts that going from `before` to `after` (listVersions of the same bucket and prefix) only
 * lock files changed: every earlier version (or delete marker) is still there, unchanged and still
 * the latest; the only new versions and delete markers are under REPO/locks/; and no lock is left
 * (each lock's latest entry is a delete marker).
 */
export function assertOnlyLocksChanged(before: readonly VersionEntry[], after: readonly VersionEntry[], repoKey: string): void {
  const isLock = (key: string): boolean => key.startsWith(`${repoKey}/locks/`);
  const now = new Map(after.map((v) => [versionKey(v), v]));
  for (const v of before) {
    const a = now.get(versionKey(v));
    assert.ok(a, `version ${v.versionId} of ${v.key} is gone`);
    assert.deepEqual({ etag: a.etag, size: a.size, deleteMarker: a.deleteMarker }, { etag: v.etag, size: v.size, deleteMarker: v.deleteMarker }, `${v.key} changed`);
    if (!isLock(v.key)) assert.equal(a.isLatest, v.isLatest, `${v.key}: another version or a delete marker was added`);
  }
  const old = new Set(before.map(versionKey));
  const added = after.filter((v) => !old.has(versionKey(v)));
  assert.deepEqual(added.filter((v) => !isLock(v.key)).map((v) => `${v.key}${v.deleteMarker ? ' (delete marker)' : ''}`), [], 'only lock files may be added or deleted');
  const staleLocks = after.filter((v) => isLock(v.key) && v.isLatest && !v.deleteMarker).map((v) => v.key);
  assert.deepEqual(staleLocks, [], 'restic removed its lock');
}
