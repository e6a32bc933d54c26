import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CANARY_READ_BYTES, ensureCanary } from './probes.js';

const MiB = 1 << 20;

/** A server holding a 600 MiB canary that ignores Range headers: it streams as much as is read. */
function hugeCanaryClient(): { client: S3Client; ranges: (string | undefined)[]; pulled: () => number } {
  const ranges: (string | undefined)[] = [];
  let pulled = 0;
  const chunk = Buffer.alloc(MiB, 0x61);
  const body = (): Readable & { transformToString: () => Promise<string> } => {
    let left = 600 * MiB;
    const r = new Readable({
      read(): void {
        if (left === 0) return void this.push(null);
        const n = Math.min(left, chunk.length);
        left -= n;
        pulled += n;
        this.push(chunk.subarray(0, n));
      },
    });
    // As the SDK's stream mixin does: the whole body, as one string.
    return Object.assign(r, { transformToString: async () => (await r.toArray()).map(String).join('') });
  };
  const client = {
    send: async (cmd: unknown): Promise<unknown> => {
      if (cmd instanceof HeadObjectCommand) return { ContentLength: 600 * MiB, VersionId: 'v1' };
      if (cmd instanceof GetObjectCommand) {
        ranges.push(cmd.input.Range);
        return { Body: body() };
      }
      throw new Error(`unexpected ${String(cmd)}`);
    },
  } as unknown as S3Client;
  return { client, ranges, pulled: () => pulled };
}

test('an existing canary is read with a range and at most a KiB or so, whatever its size', async () => {
  const s = hugeCanaryClient();
  const r = await ensureCanary(s.client, 'b1', 'rwm-canary');
  assert.equal(r.probe.outcome, 'ok', r.probe.detail);
  assert.equal(r.versionId, 'v1');
  assert.deepEqual(s.ranges, [`bytes=0-${CANARY_READ_BYTES - 1}`]);
  assert.ok(s.pulled() <= 2 * MiB, `read ${s.pulled()} bytes of a 600 MiB canary`);
});
