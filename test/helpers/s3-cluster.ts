// A private S3 test server (scripts/s3-test-server.sh: one ceph-mon, ceph-osd and radosgw) for a
// test that must disturb it, e.g. stop radosgw in the middle of a backup, without touching the
// shared server the other tests use. Free loopback ports, its own temporary directory.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { S3TestEnv } from './s3.js';
import { removeDir, tempDir } from './server.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 's3-test-server.sh');

export interface S3Cluster {
  /** The cluster's directory (ceph.conf, logs, env). */
  readonly dir: string;
  /** The `export` lines of DIR/env, as name -> value. */
  readonly vars: Readonly<Record<string, string>>;
  readonly env: S3TestEnv;
  /** Stops only radosgw: S3 connections are refused until rgwStart(); mon, osd and the data stay. */
  rgwStop(): Promise<void>;
  /** Starts radosgw again and resolves once it answers HTTP. */
  rgwStart(): Promise<void>;
  /** Stops every daemon and removes the directory. Safe to call more than once. */
  stop(): Promise<void>;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs the script; rejects with its stderr if it fails. */
function script(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(SCRIPT, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGTERM'), timeoutMs);
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`scripts/s3-test-server.sh ${args.join(' ')} failed (${code ?? signal}):\n${stderr}`));
    });
  });
}

/** Parses `export NAME=value` lines. */
export function parseExports(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2];
  }
  return vars;
}

/** The S3TestEnv of a cluster from its export lines (instead of from process.env). */
export function s3EnvFrom(vars: Readonly<Record<string, string>>): S3TestEnv {
  const need = (k: string): string => {
    const v = vars[k];
    if (v === undefined || v === '') throw new Error(`${k} missing from the S3 test server's env file`);
    return v;
  };
  return {
    endpoint: need('RWM_S3_ENDPOINT'),
    region: vars.RWM_S3_REGION ?? 'us-east-1',
    admin: { accessKeyId: need('RWM_S3_ADMIN_ACCESS_KEY'), secretAccessKey: need('RWM_S3_ADMIN_SECRET_KEY') },
    backup: { accessKeyId: need('RWM_S3_BACKUP_ACCESS_KEY'), secretAccessKey: need('RWM_S3_BACKUP_SECRET_KEY') },
  };
}

export interface S3ClusterOptions {
  /** RWM_S3_STOP_GRACE for rgwStop() and stop(): seconds after SIGTERM before SIGKILL (0: at once). */
  readonly stopGrace?: number;
  /** RWM_S3_SIZE (memstore capacity), e.g. '2G'. */
  readonly size?: string;
}

/** Starts a new cluster on free ports in a new temporary directory. */
export async function startS3Cluster(o: S3ClusterOptions = {}): Promise<S3Cluster> {
  const dir = await tempDir('rwm-s3-private-');
  // Only the knobs chosen here: none of the shared server's RWM_S3_* settings leak in.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RWM_S3_PORT: String(await freePort()),
    RWM_S3_MON_PORT: String(await freePort()),
    RWM_S3_STOP_GRACE: String(o.stopGrace ?? 2),
    ...(o.size !== undefined ? { RWM_S3_SIZE: o.size } : {}),
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await script(['stop', dir], env).catch((err: unknown) => console.error(String(err)));
    await removeDir(dir);
  };
  try {
    await script(['start', dir], env);
    const vars = parseExports(await readFile(join(dir, 'env'), 'utf8'));
    return {
      dir,
      vars,
      env: s3EnvFrom(vars),
      rgwStop: async () => void (await script(['rgw-stop', dir], env)),
      rgwStart: async () => void (await script(['rgw-start', dir], env)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
