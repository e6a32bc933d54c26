// The S3 client the storage commands use (admin or backup keys): explicit endpoint and addressing,
// checksums only where an operation requires them (RGW rejects the SDK's default trailers), a quiet
// SDK logger, and the SDK's standard retries (these requests can all be repeated).
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { QUIET_LOGGER } from '../backend/s3/client.js';

// Without an `info`, the SDK's logger middleware skips filtering every response for its log line
// (\`logger?.info?.(...)\`): on a 1000-version listing page that filter was a tenth of the CPU.
const { info: _info, ...withoutInfo } = QUIET_LOGGER;
const LISTING_LOGGER = withoutInfo as unknown as NonNullable<S3ClientConfig['logger']>;

export interface StorageConnection {
  readonly endpoint?: string;
  readonly region: string;
  readonly pathStyle: boolean;
  readonly credentials?: NonNullable<S3ClientConfig['credentials']>;
}

export function createStorageClient(c: StorageConnection): S3Client {
  return new S3Client({
    region: c.region,
    ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
    forcePathStyle: c.pathStyle,
    ...(c.credentials !== undefined ? { credentials: c.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    logger: LISTING_LOGGER,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
  });
}
