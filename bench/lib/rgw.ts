// The Ceph RGW a benchmark starts for itself (scripts/s3-test-server.sh on free loopback ports), and
// the admin-side bucket work around each run: create, count and delete every version, warm up.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  ListMultipartUploadsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { onCleanup } from './cleanup.js';
import { MiB, seededBytes } from './data.js';
import { childEnv, runCapture } from './proc.js';
import { createLog, ROOT } from './report.js';
import { deleteVersions, listVersions } from './versions.js';

const log = createLog('bench-rgw');
const S3_SCRIPT = join(ROOT, 'scripts', 's3-test-server.sh');
export const REGION = 'us-east-1';

export interface RgwOptions {
  readonly store: 'memstore' | 'bluestore';
  /** OSD capacity handed to scripts/s3-test-server.sh as RWM_S3_SIZE. */
  readonly osdSize: string;
}

export interface Rgw {
  readonly dir: string;
  readonly endpoint: string; // http://127.0.0.1:PORT, no trailing slash
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly rgwPid: number | undefined;
  readonly osdPid: number | undefined;
}

/** Free TCP ports on 127.0.0.1: all are held open together, so they differ, then released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** Runs scripts/s3-test-server.sh; resolves with its stdout, rejects with its stderr on failure. */
export async function s3Script(args: string[], env: Record<string, string> = {}): Promise<string> {
  return runCapture('bash', [S3_SCRIPT, ...args], { cwd: ROOT, env: childEnv(env), what: 'scripts/s3-test-server.sh' });
}

async function pidFromFile(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function startRgw(cfg: RgwOptions, work: string): Promise<Rgw> {
  const dir = join(work, 'ceph');
  const [port, monPort] = await freePorts(2);
  const env = { RWM_S3_PORT: String(port), RWM_S3_MON_PORT: String(monPort), RWM_S3_STORE: cfg.store, RWM_S3_SIZE: cfg.osdSize };
  log(`starting RGW (${cfg.store}, ${cfg.osdSize}) on 127.0.0.1:${port} in ${dir}`);
  // Registered before `start`: if start fails half-way or we are interrupted, `stop` still runs.
  onCleanup('stop the RGW', async () => {
    log(`stopping RGW in ${dir}`);
    await s3Script(['stop', dir], { RWM_S3_STOP_GRACE: '5' });
  });
  await s3Script(['start', dir], env);
  const vars = new Map<string, string>();
  for (const line of (await readFile(join(dir, 'env'), 'utf8')).split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1]!, m[2]!);
  }
  const need = (k: string): string => {
    const v = vars.get(k);
    if (v === undefined || v === '') throw new Error(`${dir}/env has no ${k}`);
    return v;
  };
  return {
    dir,
    endpoint: need('AWS_ENDPOINT_URL').replace(/\/+$/, ''),
    accessKeyId: need('RWM_S3_ADMIN_ACCESS_KEY'),
    secretAccessKey: need('RWM_S3_ADMIN_SECRET_KEY'),
    rgwPid: await pidFromFile(join(dir, 'run', 'rgw.pid')),
    osdPid: await pidFromFile(join(dir, 'run', 'osd.0.pid')),
  };
}

/** The admin's client; `maxSockets` > 0 keeps that many connections alive (for filling buckets). */
export function adminClient(rgw: Rgw, maxSockets = 0): S3Client {
  // This process only creates and deletes buckets: no need for the SDK's "node >= 22 soon" warning.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: rgw.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(maxSockets > 0 ? { requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets }) } } : {}),
  });
}

/** A child's environment with the admin's keys (rwm, the peers, restic's s3 backend). */
export function adminEnv(rgw: Rgw, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return childEnv({ AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: REGION, ...extra });
}

/** rclone's remote NAME on the RGW with the admin's keys, from the environment only (RCLONE_CONFIG_NAME_*). */
export function rcloneRemoteEnv(name: string, rgw: Rgw): Record<string, string> {
  return {
    [`RCLONE_CONFIG_${name}_TYPE`]: 's3',
    [`RCLONE_CONFIG_${name}_PROVIDER`]: 'Ceph',
    [`RCLONE_CONFIG_${name}_ENDPOINT`]: rgw.endpoint,
    [`RCLONE_CONFIG_${name}_REGION`]: REGION,
    [`RCLONE_CONFIG_${name}_ACCESS_KEY_ID`]: rgw.accessKeyId,
    [`RCLONE_CONFIG_${name}_SECRET_ACCESS_KEY`]: rgw.secretAccessKey,
  };
}

/**
 * The RGW to run on: the running one named by RWM_S3_ENDPOINT and its admin keys (RWM_S3_ADMIN_*,
 * pids from RWM_S3_DIR/run/, e.g. after `eval "$(cat /tmp/rgw/env)"`), else one started for this run
 * (`own`: stopped at the end).
 */
export async function connectRgw(work: string, own: RgwOptions = { store: 'memstore', osdSize: '4G' }): Promise<{ rgw: Rgw; own: boolean }> {
  const endpoint = process.env.RWM_S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') return { rgw: await startRgw(own, work), own: true };
  const accessKeyId = process.env.RWM_S3_ADMIN_ACCESS_KEY;
  const secretAccessKey = process.env.RWM_S3_ADMIN_SECRET_KEY;
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new Error('RWM_S3_ENDPOINT is set but RWM_S3_ADMIN_ACCESS_KEY/RWM_S3_ADMIN_SECRET_KEY are not (eval "$(cat /tmp/rgw/env)")');
  const dir = process.env.RWM_S3_DIR ?? '/tmp/rgw';
  return {
    rgw: { dir, endpoint: endpoint.replace(/\/+$/, ''), accessKeyId, secretAccessKey, rgwPid: await pidFromFile(join(dir, 'run', 'rgw.pid')), osdPid: await pidFromFile(join(dir, 'run', 'osd.0.pid')) },
    own: false,
  };
}

export async function createBucket(s3: S3Client, bucket: string, versioned: boolean): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

export interface BucketContents {
  readonly objects: number;
  readonly bytes: number;
  readonly deleteMarkers: number;
  readonly multipartUploads: number;
}

/**
 * Counts what the run stored (every version, and incomplete multipart uploads), then deletes all of it
 * and the bucket. RGW frees the space only when its GC runs (`s3-test-server.sh gc`).
 */
export async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<BucketContents> {
  const versions = await listVersions(s3, bucket, '');
  const objects = versions.filter((v) => !v.deleteMarker);
  let multipartUploads = 0;
  for (let keyMarker: string | undefined, uploadMarker: string | undefined; ; ) {
    const r = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(uploadMarker ? { UploadIdMarker: uploadMarker } : {}) }));
    for (const u of r.Uploads ?? []) {
      multipartUploads++;
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key ?? '', UploadId: u.UploadId ?? '' }));
    }
    if (r.IsTruncated !== true) break;
    keyMarker = r.NextKeyMarker;
    uploadMarker = r.NextUploadIdMarker;
  }
  await deleteVersions(s3, bucket, versions, 1);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  return { objects: objects.length, bytes: objects.reduce((n, v) => n + v.size, 0), deleteMarkers: versions.length - objects.length, multipartUploads };
}

/**
 * RGW creates its pools lazily (bucket index on the first bucket, data on the first object, non-ec on
 * the first multipart upload), and the OSD then creates and peers their placement groups. Do that
 * once before the first measured run, so it does not land in whichever variant goes first.
 */
export async function warmUp(ctx: { rgw: Rgw; s3: S3Client }): Promise<void> {
  const bucket = `rwm-bench-warmup-${randomBytes(4).toString('hex')}`;
  const part = seededBytes('warmup', 5 * MiB);
  await createBucket(ctx.s3, bucket, false);
  try {
    for (let i = 0; i < 4; i++) await ctx.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `warmup/${i}`, Body: part }));
    const { UploadId } = await ctx.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'warmup/mp' }));
    const parts = [];
    for (let n = 1; n <= 2; n++) {
      const r = await ctx.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'warmup/mp', UploadId, PartNumber: n, Body: part }));
      parts.push({ PartNumber: n, ETag: r.ETag });
    }
    await ctx.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'warmup/mp', UploadId, MultipartUpload: { Parts: parts } }));
  } finally {
    await emptyAndDeleteBucket(ctx.s3, bucket);
    await s3Script(['gc', ctx.rgw.dir]);
  }
}
