// What the plain-JavaScript peers under bench/lib/ (list-versions-*.mjs, drop-versions-naive.mjs)
// share: their command line (ENDPOINT BUCKET [PREFIX]), an S3 client with the keys from the
// environment, and one ListObjectVersions pagination. Plain JavaScript, so a peer starts like the
// built rwm CLI does (no TypeScript loader).
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';

/** Reads ENDPOINT BUCKET [PREFIX] from argv (exits 2 with a usage line otherwise); `kp` is the prefix with its slash. */
export function peerSetup(script) {
  const [endpoint, bucket, prefix = ''] = process.argv.slice(2);
  if (endpoint === undefined || bucket === undefined) {
    process.stderr.write(`usage: ${script} ENDPOINT BUCKET [PREFIX]\n`);
    process.exit(2);
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const kp = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const client = new S3Client({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { bucket, kp, client };
}

/** Pages ListObjectVersions of `prefix` one request at a time (MaxKeys 1000), awaiting `onPage` for each page. */
export async function forEachVersionPage(client, bucket, prefix, onPage) {
  let keyMarker;
  let versionIdMarker;
  for (;;) {
    const page = await client.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000, ...(keyMarker !== undefined ? { KeyMarker: keyMarker, VersionIdMarker: versionIdMarker } : {}) }),
    );
    await onPage(page);
    if (page.IsTruncated !== true) return;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}
