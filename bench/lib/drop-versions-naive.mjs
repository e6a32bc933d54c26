// The peer bench/drop-versions.ts compares `rwm storage drop-versions` with: what the original tool's
// storage_drop_versions does, with no checks. Pages ListObjectVersions of a prefix sequentially
// (MaxKeys 1000) and deletes every noncurrent version with DeleteObjects, 1000 at a time, as it goes.
// Plain JavaScript, so it starts like the built rwm CLI does. Keys come from the environment.
//
// Usage: AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. node drop-versions-naive.mjs ENDPOINT BUCKET PREFIX
// Prints one JSON line: {"pages":..,"versions":..,"deleted":..,"errors":..}
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { forEachVersionPage, peerSetup } from './peer-s3.mjs';

const { bucket, kp, client } = peerSetup('drop-versions-naive.mjs');
const n = { pages: 0, versions: 0, deleted: 0, errors: 0 };
let batch = [];
async function flush() {
  if (batch.length === 0) return;
  const r = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
  n.errors += (r.Errors ?? []).length;
  n.deleted += batch.length - (r.Errors ?? []).length;
  batch = [];
}
await forEachVersionPage(client, bucket, kp, async (page) => {
  n.pages += 1;
  for (const v of page.Versions ?? []) {
    n.versions += 1;
    if (v.IsLatest === true) continue;
    batch.push({ Key: v.Key, VersionId: v.VersionId });
    if (batch.length === 1000) await flush();
  }
});
await flush();
client.destroy();
process.stdout.write(`${JSON.stringify(n)}\n`);
if (n.errors > 0) process.exitCode = 1;
