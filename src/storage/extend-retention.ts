// `storage extend-retention` as a function (the CLI command and `rwm maintain` call it): every current
// version whose retain-until falls within `days` gets it extended (versions/retention.ts plans,
// versions/apply.ts writes).
import { GetObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Buckets } from '../s3/s3-buckets.js';
import { isRwmKey } from '../s3/names.js';
import { present, stateAt } from '../state/at-time.js';
import { orderedMap } from '../util/ordered.js';
import { applyPlan, type ApplyReport } from '../versions/apply.js';
import type { Action } from '../versions/plan.js';
import { planRetention } from '../versions/retention.js';
import { StorageError } from './errors.js';
import { retentionProblem } from './retain-until.js';

export interface ExtendRetentionOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly kp: string;
  readonly days: number;
  readonly dryRun: boolean;
  readonly concurrency: number;
  readonly onChecked?: () => void;
}

export async function runExtendRetention(o: ExtendRetentionOptions): Promise<ApplyReport & { checked: number }> {
  const t = { bucket: o.bucket, kp: o.kp };
  const { days, concurrency } = o;
  const late = retentionProblem(days);
  if (late !== undefined) throw new StorageError(late);
  const buckets = new S3Buckets(o.client);
  if (!(await buckets.objectLockEnabled(t.bucket))) throw new StorageError(`bucket ${t.bucket} has no object lock: there is no retention to extend`);
  const conf = await o.client.send(new GetObjectLockConfigurationCommand({ Bucket: t.bucket }));
  const defaultMode = conf.ObjectLockConfiguration?.Rule?.DefaultRetention?.Mode;
  const now = Date.now();
  let checked = 0;
  const current = (async function* () {
    for await (const e of present(stateAt(buckets.listVersions(t.bucket, t.kp), Infinity))) if (!isRwmKey(e.key.slice(t.kp.length))) yield e;
  })();
  const planned = orderedMap(current, concurrency, async (e) => {
    const lock = await buckets.lockOf({ bucket: t.bucket, key: e.key, versionId: e.versionId });
    o.onChecked?.();
    checked += 1;
    return planRetention(e, lock, now, days, defaultMode === 'GOVERNANCE' || defaultMode === 'COMPLIANCE' ? defaultMode : undefined);
  });
  const actions = (async function* (): AsyncGenerator<Action> {
    for await (const a of planned) if (a !== undefined) yield a;
  })();
  const r = await applyPlan(actions, { buckets, sourceBucket: t.bucket, targetBucket: t.bucket, dryRun: o.dryRun, concurrency });
  return { ...r, checked };
}
