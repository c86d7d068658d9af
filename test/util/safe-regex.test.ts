import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PatternError, SafeRegex } from '../../src/util/safe-regex.js';

const patterns = [
  '.*\\.(q_proj|v_proj)', '(.*attn.*)|(.*mlp.*)', '.*decoder.*(SelfAttention|EncDecAttention).*(q|k|v|o)$', 'q_proj', '^model\\.layers\\.\\d+\\.self_attn\\.[qkvo]_proj$',
  '.*(up|down|gate)_proj', 'a{2,3}b?', '(?:ab)+c*', '[^.]*', 'x|', '(a|b)*?c', '[a-c-]+', '\\w+\\.\\d{1,2}',
];
const inputs = ['model.layers.0.self_attn.q_proj', 'layers.0.mlp.up_proj', 'q_proj', 'aab', 'aaab', 'aaaab', 'ababcc', 'abc', '', 'x', 'a-b', 'foo.12', 'foo.123', 'decoderSelfAttention.q', 'mlp'];

test('SafeRegex.fullMatch agrees with a full-anchored JavaScript RegExp on ordinary patterns', () => {
  for (const p of patterns) {
    const re = new RegExp(`^(?:${p})$`);
    const safe = new SafeRegex(p);
    for (const s of inputs) assert.equal(safe.fullMatch(s), re.test(s), `${p} on ${JSON.stringify(s)}`);
  }
});

test('catastrophic patterns run in linear time; unsupported or malformed ones are PatternErrors', () => {
  const t0 = performance.now();
  const r = new SafeRegex('(.*.*)*X');
  assert.equal(r.fullMatch('a'.repeat(5000)), false);
  assert.equal(new SafeRegex('(a+)+$').fullMatch(`${'a'.repeat(5000)}!`), false);
  assert.ok(performance.now() - t0 < 2000);
  for (const bad of ['(q_proj', 'q_proj)', '*a', '(?<n>a)', '(?=a)', '\\1', 'a{5,2}', '[a', 'a{99999}']) {
    assert.throws(() => new SafeRegex(bad), PatternError, bad);
  }
});
