import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditLifecycle } from './lifecycle-audit.js';

test('lifecycle rules that expire versions sooner than the minimum are findings; others are not', () => {
  const codes = (rules: Parameters<typeof auditLifecycle>[0], min = 30): string[] => auditLifecycle(rules, min).map((f) => f.code);
  assert.deepEqual(codes([{ ID: 'nc', Status: 'Enabled', Prefix: '', NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]), ['lifecycle-noncurrent-expiry']);
  assert.deepEqual(codes([{ ID: 'nc', Status: 'Enabled', Prefix: '', NoncurrentVersionExpiration: { NoncurrentDays: 90 } }]), []);
  assert.deepEqual(codes([{ ID: 'nc', Status: 'Disabled', Prefix: '', NoncurrentVersionExpiration: { NoncurrentDays: 1 } }]), [], 'disabled rules do nothing');
  assert.deepEqual(codes([{ ID: 'e', Status: 'Enabled', Filter: { Prefix: 'x/' }, Expiration: { Days: 7 } }]), ['lifecycle-expiration']);
  assert.deepEqual(codes([{ ID: 'd', Status: 'Enabled', Prefix: '', Expiration: { Date: new Date(Date.now() + 86_400_000) } }]), ['lifecycle-expiration']);
  assert.deepEqual(codes([{ ID: 'm', Status: 'Enabled', Prefix: '', Expiration: { ExpiredObjectDeleteMarker: true }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]), [], 'cleaning up lone markers and uploads is fine');
  assert.deepEqual(codes([{ ID: 'nc', Status: 'Enabled', Prefix: '', NoncurrentVersionExpiration: { NoncurrentDays: 5 } }], 3), [], 'the minimum is configurable');
  assert.match(auditLifecycle([{ ID: 'nc', Status: 'Enabled', Filter: { Prefix: 'host1/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }], 30)[0]?.message ?? '', /"nc".*host1\/.*1 day /);
});
