// The static half of `rwm storage check` for lifecycle rules: nothing may expire noncurrent versions
// (the old, good copies an attacker's overwrite or delete leaves behind) or current objects sooner
// than the minimum window, or the bucket would quietly forget what rwm needs to repair it.
import type { LifecycleRule } from '@aws-sdk/client-s3';
import type { Finding } from './findings.js';

const ruleName = (r: LifecycleRule, i: number): string => (r.ID !== undefined && r.ID !== '' ? `"${r.ID}"` : `#${i + 1}`);

function scope(r: LifecycleRule): string {
  const p = r.Filter?.Prefix ?? r.Filter?.And?.Prefix ?? r.Prefix;
  const tagged = r.Filter?.Tag !== undefined || (r.Filter?.And?.Tags?.length ?? 0) > 0;
  return `${p === undefined || p === '' ? 'every key' : `keys under "${p}"`}${tagged ? ' with certain tags' : ''}`;
}

export function auditLifecycle(rules: readonly LifecycleRule[], minDays: number): Finding[] {
  const findings: Finding[] = [];
  rules.forEach((r, i) => {
    if (r.Status !== 'Enabled') return;
    const nc = r.NoncurrentVersionExpiration?.NoncurrentDays;
    if (nc !== undefined && nc < minDays) {
      findings.push({
        code: 'lifecycle-noncurrent-expiry',
        message: `lifecycle rule ${ruleName(r, i)} deletes noncurrent versions of ${scope(r)} after ${nc} day${nc === 1 ? '' : 's'} (minimum ${minDays}): an overwritten or deleted backup file is gone for good by then`,
      });
    }
    const exp = r.Expiration;
    const days = exp?.Days;
    const date = exp?.Date;
    if ((days !== undefined && days < minDays) || (date !== undefined && date.getTime() < Date.now() + minDays * 86_400_000)) {
      findings.push({
        code: 'lifecycle-expiration',
        message: `lifecycle rule ${ruleName(r, i)} expires current objects of ${scope(r)} ${days !== undefined ? `after ${days} day${days === 1 ? '' : 's'}` : `on ${date?.toISOString().slice(0, 10) ?? ''}`} (minimum ${minDays}): restic's files would disappear from the repository`,
      });
    }
  });
  return findings;
}
