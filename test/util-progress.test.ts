import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSeconds } from '../lib/util/progress';

test('durations are rounded once, so seconds never read 60', () => {
  assert.equal(formatSeconds(5.25), '5.3s');
  assert.equal(formatSeconds(59.96), '1m0s');
  assert.equal(formatSeconds(119.7), '2m0s');
  assert.equal(formatSeconds(125), '2m5s');
  assert.equal(formatSeconds(3599.6), '1h0m');
  assert.equal(formatSeconds(7384), '2h3m');
  assert.equal(formatSeconds(Infinity), '?');
});
