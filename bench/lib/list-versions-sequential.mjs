// The baseline bench/state.ts compares `rwm state save` with: one plain, sequential ListObjectVersions
// pagination of a prefix (no delimiter, MaxKeys 1000), only counting what it sees. Plain JavaScript,
// so it starts like the built rwm CLI does (no TypeScript loader). Keys come from the environment.
//
// Usage: AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. node list-versions-sequential.mjs ENDPOINT BUCKET PREFIX
// Prints one JSON line: {"pages":..,"versions":..,"deleteMarkers":..,"live":..,"rwmKeys":..,"listSec":..}
import { performance } from 'node:perf_hooks';
import { forEachVersionPage, peerSetup } from './peer-s3.mjs';

const { bucket, kp, client } = peerSetup('list-versions-sequential.mjs');
const t0 = performance.now();
const n = { pages: 0, versions: 0, deleteMarkers: 0, live: 0, rwmKeys: 0 };
await forEachVersionPage(client, bucket, kp, (page) => {
  n.pages += 1;
  for (const v of page.Versions ?? []) {
    n.versions += 1;
    if (v.IsLatest !== true) continue;
    // rwm's own keys (saved states) are not part of the repository: counted apart
    if ((v.Key ?? '').slice(kp.length).startsWith('.rwm/')) n.rwmKeys += 1;
    else n.live += 1;
  }
  n.deleteMarkers += (page.DeleteMarkers ?? []).length;
});
client.destroy();
process.stdout.write(`${JSON.stringify({ ...n, listSec: (performance.now() - t0) / 1000 })}\n`);
