// A sketch bench/state.ts measures beside `rwm state save` (not rwm code): list a restic prefix in
// parallel by key range instead of one directory at a time. One Delimiter '/' request for the top
// level; below it no delimiter: data/ as 16 prefixes data/0 .. data/f (each holds 16 of restic's
// 256 shards), every other directory as one prefix, 16 listings at a time, full 1000-key pages.
// The ranges are disjoint and sorted, so reading them in order gives key order. Only counts.
//
// Usage: AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. node list-versions-ranges.mjs ENDPOINT BUCKET PREFIX
// Prints one JSON line: {"ranges":..,"requests":..,"versions":..,"deleteMarkers":..,"live":..,"listSec":..}
import { performance } from 'node:perf_hooks';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { forEachVersionPage, peerSetup } from './peer-s3.mjs';

const CONCURRENCY = 16;
const { bucket, kp, client } = peerSetup('list-versions-ranges.mjs');

const t0 = performance.now();
const n = { ranges: 0, requests: 0, versions: 0, deleteMarkers: 0, live: 0 };
const count = (page) => {
  n.requests += 1;
  for (const v of page.Versions ?? []) {
    n.versions += 1;
    if (v.IsLatest === true && !(v.Key ?? '').slice(kp.length).startsWith('.rwm/')) n.live += 1;
  }
  n.deleteMarkers += (page.DeleteMarkers ?? []).length;
};

const top = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: kp, Delimiter: '/' }));
if (top.IsTruncated === true) throw new Error('the sketch handles a top level of at most 1000 entries');
count(top);
const ranges = [];
for (const { Prefix: dir = '' } of top.CommonPrefixes ?? []) {
  if (dir === `${kp}.rwm/`) continue;
  if (dir === `${kp}data/`) for (const h of '0123456789abcdef') ranges.push(dir + h);
  else ranges.push(dir);
}
n.ranges = ranges.length;

let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < ranges.length) await forEachVersionPage(client, bucket, ranges[next++], count);
  }),
);
client.destroy();
process.stdout.write(`${JSON.stringify({ ...n, listSec: (performance.now() - t0) / 1000 })}\n`);
