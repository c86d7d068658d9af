import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixed4 } from '../../src/eval/format.js';

test('fixed4 rounds exact ties half to even, as glibc printf does', () => {
  assert.equal(fixed4(1 / 32), '0.0312');
  assert.equal(fixed4(3 / 32), '0.0938');
  assert.equal(fixed4(5 / 32), '0.1562');
  assert.equal(fixed4(7 / 32), '0.2188');
  assert.equal(fixed4(1 + 1 / 32), '1.0312');
  assert.equal(fixed4(-1 / 32), '-0.0312');
});

test('fixed4 rounds everything else to nearest', () => {
  assert.equal(fixed4(1 / 3), '0.3333');
  assert.equal(fixed4(2 / 3), '0.6667');
  assert.equal(fixed4(0.5), '0.5000');
  assert.equal(fixed4(0), '0.0000');
  assert.equal(fixed4(0.12345), '0.1235'); // 0.12345 is stored slightly above the tie
  assert.equal(fixed4(1), '1.0000');
});
