// The AWS SDK v3 S3 client as rwm uses it: explicit region/endpoint/addressing, checksums only when
// an operation requires them (RGW and other S3 servers reject the SDK's default aws-chunked
// trailers on streams with 411), keep-alive sockets, and exactly one retry done by the SDK.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from './settings.js';

export interface S3Clients {
  /** For requests whose body can be re-sent: the SDK retries once (throttling, 5xx, resets). */
  readonly client: S3Client;
  /** For streamed uploads, whose body cannot be replayed: no retry (restic retries the whole upload). */
  readonly streaming: S3Client;
  destroy(): void;
}

const MAX_SOCKETS = 64;

// The SDK would print some notices with console.warn (e.g. when a streamed upload fails, which rwm
// reports itself as a typed error). Keep stderr for rwm's own JSON log.
export const QUIET_LOGGER = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export function createS3Clients(s: S3Settings): S3Clients {
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const make = (maxAttempts: number): S3Client =>
    new S3Client({
      region: s.region,
      ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
      forcePathStyle: s.bucketLookup === 'path' || (s.bucketLookup === 'auto' && s.endpoint !== undefined),
      ...(s.credentials !== undefined ? { credentials: { ...s.credentials } } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts,
      logger: QUIET_LOGGER,
      requestHandler: { httpAgent, httpsAgent, connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
  const client = make(2);
  const streaming = make(1);
  return {
    client,
    streaming,
    destroy: () => {
      client.destroy();
      streaming.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
