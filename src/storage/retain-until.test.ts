import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RETAIN_UNTIL, retentionProblem } from './retain-until.js';

test('retain-until dates past 2106-02-07T06:28:15Z (RGW\'s 32-bit seconds) are refused, with the most days allowed', () => {
  assert.equal(MAX_RETAIN_UNTIL.getTime() / 1000, 2 ** 32 - 1);
  const now = Date.UTC(2026, 11, 7);
  assert.equal(retentionProblem(3650, now), undefined, 'ten years');
  assert.equal(retentionProblem(28_916, now), undefined, 'up to the last storable day');
  assert.match(retentionProblem(28_917, now) ?? '', /past 2106-02-07T06:28:15\.000Z.*at most 28916 days/);
  assert.match(retentionProblem(36_500, now) ?? '', /wraps around/);
});
