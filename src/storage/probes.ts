// The "by trying" half of `rwm storage check`: with the backup user's keys, attempt each forbidden
// action in a form that changes nothing that matters even if the server allows it (an invalid body,
// a version id that does not exist, the check's own canary object), and see that S3 refuses it.
// Plus the two things restic needs: writing (the canary) and deleting under locks/.
import { randomBytes } from 'node:crypto';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketAclCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  DeleteObjectTaggingCommand,
  type ObjectLockEnabled,
  type ExpirationStatus,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Status } from '../backend/s3/errors.js';
import { describeS3Error } from './errors.js';
import type { Finding, ProbeResult } from './findings.js';
import { runAclProbes } from './acl-probes.js';
import { MAX_LOCK_DEPTH, under } from './policy.js';

export interface ProbeInput {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  /** Only "re-enable" versioning when it is already on (so a probe never changes the state). */
  readonly versioningEnabled: boolean;
}

export interface ProbeReport {
  readonly probes: ProbeResult[];
  readonly findings: Finding[];
  readonly notes: string[];
}

interface Probe {
  readonly action: string;
  readonly request: string;
  /** Servers that do not implement the feature answer 4xx even to the owner: only a 2xx proves it allowed. */
  readonly only2xxProves?: boolean;
  readonly send: () => Promise<unknown>;
}

const fakeVersionId = (): string => `rwmprobe${randomBytes(12).toString('hex')}`;

export const canaryKey = (prefix: string): string => `${under(prefix)}rwm-canary`;

export async function runProbes(i: ProbeInput): Promise<ProbeReport> {
  const { client, bucket } = i;
  const probes: ProbeResult[] = [];
  const findings: Finding[] = [];
  const notes: string[] = [];
  const Key = canaryKey(i.prefix);

  // The canary: written once by the backup user and reused, so checks add no versions.
  const canary = await ensureCanary(client, bucket, Key);
  probes.push(canary.probe);
  if (canary.probe.outcome !== 'ok') {
    findings.push({ code: 'backup-cannot-write', action: 's3:PutObject', message: `the backup user cannot write ${Key} (${canary.probe.detail}): restic could not back up to this bucket` });
  }
  const haveCanary = canary.probe.outcome === 'ok';

  const list: Probe[] = [
    { action: 's3:DeleteObjectVersion', request: 'DeleteObject with a VersionId that does not exist', send: () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key, VersionId: fakeVersionId() })) },
    {
      action: 's3:BypassGovernanceRetention',
      request: 'DeleteObject with a made-up VersionId and x-amz-bypass-governance-retention',
      send: () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key, VersionId: fakeVersionId(), BypassGovernanceRetention: true })),
    },
    { action: 's3:DeleteObject', request: 'DeleteObject of a key outside locks/ that does not exist', send: () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${under(i.prefix)}rwm-canary-delete-probe` })) },
    ...(haveCanary ? [{ action: 's3:DeleteBucket', request: 'DeleteBucket (the bucket holds the canary)', send: () => client.send(new DeleteBucketCommand({ Bucket: bucket })) }] : []),
    ...(i.versioningEnabled
      ? [{ action: 's3:PutBucketVersioning', request: 'PutBucketVersioning Enabled (as it already is)', send: () => client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } })) }]
      : []),
    {
      action: 's3:PutLifecycleConfiguration',
      request: 'PutBucketLifecycleConfiguration with an invalid rule status',
      send: () =>
        client.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: bucket,
            LifecycleConfiguration: { Rules: [{ ID: 'rwm-probe', Status: 'Invalid' as ExpirationStatus, Filter: { Prefix: 'rwm-probe/' }, Expiration: { Days: 36500 } }] },
          }),
        ),
    },
    { action: 's3:PutBucketPolicy', request: 'PutBucketPolicy with a body that is not JSON', send: () => client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: 'rwm probe: not a policy' })) },
    {
      action: 's3:PutBucketAcl',
      request: 'PutBucketAcl granting a user that does not exist',
      // No owner in the body (the backup user does not know it; a wrong one is refused for other reasons).
      send: () => client.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'id="rwm-probe-no-such-user"' })),
    },
    ...(haveCanary
      ? [
          { action: 's3:PutObjectAcl', request: 'PutObjectAcl private on the canary', send: () => client.send(new PutObjectAclCommand({ Bucket: bucket, Key, ACL: 'private' })) },
          {
            action: 's3:PutObjectRetention',
            request: 'PutObjectRetention with a date in the past on the canary',
            send: () => client.send(new PutObjectRetentionCommand({ Bucket: bucket, Key, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() - 86_400_000) } })),
          },
          { action: 's3:PutObjectLegalHold', request: 'PutObjectLegalHold OFF on the canary', send: () => client.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key, LegalHold: { Status: 'OFF' } })) },
          { action: 's3:PutObjectTagging', request: 'PutObjectTagging on the canary', send: () => client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key, Tagging: { TagSet: [{ Key: 'rwm-probe', Value: '1' }] } })) },
          // The canary's own version: for version tagging RGW looks the version up before it
          // checks the policy, so a made-up one answers 404 whatever the policy says.
          {
            action: 's3:PutObjectVersionTagging',
            request: "PutObjectTagging with the canary's VersionId",
            send: () => client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key, VersionId: canary.versionId ?? 'null', Tagging: { TagSet: [{ Key: 'rwm-probe', Value: '1' }] } })),
          },
          { action: 's3:DeleteObjectTagging', request: 'DeleteObjectTagging on the canary', send: () => client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key })) },
          {
            action: 's3:DeleteObjectVersionTagging',
            request: "DeleteObjectTagging with the canary's VersionId",
            send: () => client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key, VersionId: canary.versionId ?? 'null' })),
          },
        ]
      : []),
    {
      action: 's3:PutBucketObjectLockConfiguration',
      request: 'PutObjectLockConfiguration with an invalid body',
      send: () => client.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Invalid' as ObjectLockEnabled } })),
    },
    {
      action: 's3:PutReplicationConfiguration',
      request: 'PutBucketReplication of a disabled rule to a bucket that does not exist',
      send: () =>
        client.send(
          new PutBucketReplicationCommand({
            Bucket: bucket,
            ReplicationConfiguration: {
              Role: '',
              Rules: [{ ID: 'rwm-probe', Status: 'Disabled', Priority: 1, Filter: { Prefix: 'rwm-probe/' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: 'arn:aws:s3:::rwm-probe-no-such-bucket' } }],
            },
          }),
        ),
    },
    {
      action: 's3:PutEncryptionConfiguration',
      request: 'PutBucketEncryption AES256',
      only2xxProves: true,
      send: () => client.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } })),
    },
  ];

  for (const p of list) {
    const r = await attempt(p);
    probes.push(r);
    if (r.outcome === 'allowed') findings.push({ code: 'backup-allowed', action: p.action, message: `the backup user was not refused ${p.action}: ${r.detail}` });
    else if (r.outcome === 'unsupported' || r.outcome === 'inconclusive') notes.push(`${p.action}: ${r.detail}`);
    else if (r.outcome === 'failed') findings.push({ code: 'bucket-unreadable', action: p.action, message: `could not try ${p.action}: ${r.detail}` });
  }

  const acl = await runAclProbes(client, bucket, i.prefix);
  probes.push(...acl.probes);
  findings.push(...acl.findings);

  // restic deletes its own lock files; on a versioned bucket that adds a delete marker only. Tried
  // at the prefix and at the deepest repository `rwm serve --s3` may keep below it.
  for (const lockKey of lockProbeKeys(i.prefix)) {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: lockKey }));
      probes.push({ action: 's3:DeleteObject (locks/)', outcome: 'ok', detail: `DeleteObject ${lockKey} → 2xx` });
    } catch (err) {
      probes.push({ action: 's3:DeleteObject (locks/)', outcome: 'failed', detail: `DeleteObject ${lockKey} → ${describeS3Error(err)}` });
      findings.push({
        code: 'backup-cannot-delete-locks',
        action: 's3:DeleteObject',
        message: `the backup user cannot delete ${lockKey} (${describeS3Error(err)}): every restic run in a repository there would fail to remove its lock`,
      });
    }
  }
  return { probes, findings, notes };
}

/** A lock at PREFIX/locks/, and one in the deepest repository below PREFIX (rwm-canary/…/locks/). */
export function lockProbeKeys(prefix: string): string[] {
  const deep = Array.from({ length: MAX_LOCK_DEPTH }, (_, n) => `rwm-canary-${n + 1}/`).join('');
  return [`${under(prefix)}locks/rwm-canary`, `${under(prefix)}${deep}locks/rwm-canary`];
}

async function attempt(p: Probe): Promise<ProbeResult> {
  const detail = (answer: string): string => `${p.request} → ${answer}`;
  try {
    await p.send();
    return { action: p.action, outcome: 'allowed', detail: detail('2xx (allowed)') };
  } catch (err) {
    const status = s3Status(err);
    const answer = describeS3Error(err);
    if (status === 403) return { action: p.action, outcome: 'refused', detail: detail(answer) };
    if (status === 405 || status === 501) return { action: p.action, outcome: 'unsupported', detail: detail(`${answer} (the server does not implement it)`) };
    if (status === undefined) return { action: p.action, outcome: 'failed', detail: detail(answer) };
    if (p.only2xxProves === true) return { action: p.action, outcome: 'inconclusive', detail: detail(`${answer} (this server may not implement it)`) };
    return { action: p.action, outcome: 'allowed', detail: detail(`${answer}: the request got past the permission check`) };
  }
}

/** How much of an existing canary `check` reads to see that it is readable. */
export const CANARY_READ_BYTES = 1024;

/** Reads a response body up to `limit` bytes, then drops the connection's rest. */
async function readAtMost(body: unknown, limit: number): Promise<number> {
  if (body === undefined || body === null) return 0;
  let n = 0;
  const stream = body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  for await (const chunk of stream) {
    n += chunk.length;
    if (n >= limit) break;
  }
  stream.destroy?.();
  return n;
}

export async function ensureCanary(client: S3Client, bucket: string, Key: string): Promise<{ probe: ProbeResult; versionId?: string }> {
  const ok = (detail: string, versionId: string | undefined): { probe: ProbeResult; versionId?: string } => ({ probe: { action: 's3:PutObject', outcome: 'ok', detail }, ...(versionId !== undefined ? { versionId } : {}) });
  const failed = (detail: string): { probe: ProbeResult } => ({ probe: { action: 's3:PutObject', outcome: 'failed', detail } });
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
    // A range (S3 answers 416 to one on an empty object), and at most that much read even from a
    // server that ignores it: the canary may be anything, 600 MiB included.
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key, ...(head.ContentLength === 0 ? {} : { Range: `bytes=0-${CANARY_READ_BYTES - 1}` }) }));
    await readAtMost(got.Body, CANARY_READ_BYTES);
    return ok(`canary ${Key} exists and is readable`, head.VersionId);
  } catch (err) {
    if (s3Status(err) !== 404) return failed(`reading the canary ${Key} → ${describeS3Error(err)}`);
  }
  try {
    const put = await client.send(
      new PutObjectCommand({ Bucket: bucket, Key, Body: `rwm storage check canary: written by the backup user on ${new Date().toISOString()}; harmless probes run against it\n` }),
    );
    return ok(`canary ${Key} written`, put.VersionId);
  } catch (err) {
    return failed(`PutObject ${Key} → ${describeS3Error(err)}`);
  }
}
