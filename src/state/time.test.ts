import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { looksLikeTime, parseTime, TimeError } from './time.js';

const NOW = Date.parse('2026-05-10T00:00:00Z');

describe('parseTime', () => {
  test('RFC 3339 with Z or an offset', () => {
    assert.equal(parseTime('2026-05-01T12:00:00Z'), Date.parse('2026-05-01T12:00:00.000Z'));
    assert.equal(parseTime('2026-05-01T14:00:00+02:00'), Date.parse('2026-05-01T12:00:00Z'));
    assert.equal(parseTime('2026-05-01T07:30:00-04:30'), Date.parse('2026-05-01T12:00:00Z'));
    assert.equal(parseTime('2026-05-01T12:00:00.250Z'), Date.parse('2026-05-01T12:00:00Z') + 250);
    assert.equal(parseTime('2026-05-01 12:00:00Z'), Date.parse('2026-05-01T12:00:00Z'));
    assert.equal(parseTime('2026-05-01t12:00:00z'), Date.parse('2026-05-01T12:00:00Z'));
  });

  test('ages count back from now', () => {
    assert.equal(parseTime('30s', NOW), NOW - 30_000);
    assert.equal(parseTime('90m', NOW), NOW - 90 * 60_000);
    assert.equal(parseTime('2h', NOW), NOW - 2 * 3_600_000);
    assert.equal(parseTime('3d', NOW), NOW - 3 * 86_400_000);
    assert.equal(parseTime('1w', NOW), NOW - 7 * 86_400_000);
  });

  test('refuses dates and times without a zone, and anything else', () => {
    for (const text of ['2026-05-01', '2026-05-01T12:00:00', '2026-05-01 12:00', '2026-05-01T12:00Z', '12:00', 'yesterday', 'now', '', '0h', '2', '2 h', '-2h', '2y', '1.5h', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-04-31T12:00:00+02:00', 'T12:00:00Z']) {
      assert.throws(() => parseTime(text, NOW), TimeError, JSON.stringify(text));
    }
  });

  test('looksLikeTime tells times from state names', () => {
    assert.equal(looksLikeTime('2h'), true);
    assert.equal(looksLikeTime('2026-05-01T12:00:00Z'), true);
    assert.equal(looksLikeTime('20260501T120000.000Z-0123abcd'), false);
    // A date without a zone is meant as a time: it gets parseTime's refusal, not a state lookup.
    assert.equal(looksLikeTime('2026-05-01'), true);
    assert.throws(() => parseTime('2026-05-01'), TimeError);
    assert.equal(looksLikeTime('latest'), false);
  });
});
