// The baseline bench/state.ts compares `rwm state save` with: one plain, sequential ListObjectVersions
// pagination of a prefix (no delimiter, MaxKeys 1000), only counting what it sees. Plain JavaScript,
// so it starts like the built rwm CLI does (no TypeScript loader). Keys come from the environment.
//
// Usage: AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. node list-versions-sequential.mjs ENDPOINT BUCKET PREFIX
// Prints one JSON line: {"pages":..,"versions":..,"deleteMarkers":..,"live":..,"rwmKeys":..,"listSec":..}
import { performance } from 'node:perf_hooks';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';

const [endpoint, bucket, prefix = ''] = process.argv.slice(2);
if (endpoint === undefined || bucket === undefined) {
  process.stderr.write('usage: list-versions-sequential.mjs ENDPOINT BUCKET [PREFIX]\n');
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

const t0 = performance.now();
const n = { pages: 0, versions: 0, deleteMarkers: 0, live: 0, rwmKeys: 0 };
let keyMarker;
let versionIdMarker;
for (;;) {
  const page = await client.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: kp, MaxKeys: 1000, ...(keyMarker !== undefined ? { KeyMarker: keyMarker, VersionIdMarker: versionIdMarker } : {}) }),
  );
  n.pages += 1;
  for (const v of page.Versions ?? []) {
    n.versions += 1;
    if (v.IsLatest !== true) continue;
    // rwm's own keys (saved states) are not part of the repository: counted apart
    if ((v.Key ?? '').slice(kp.length).startsWith('.rwm/')) n.rwmKeys += 1;
    else n.live += 1;
  }
  n.deleteMarkers += (page.DeleteMarkers ?? []).length;
  if (page.IsTruncated !== true) break;
  keyMarker = page.NextKeyMarker;
  versionIdMarker = page.NextVersionIdMarker;
}
client.destroy();
process.stdout.write(`${JSON.stringify({ ...n, listSec: (performance.now() - t0) / 1000 })}\n`);
