import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countLines, formatSeconds, Progress, progressEnabled } from '../../src/util/progress.js';
import { writeTemp } from '../helpers.js';

test('progress: total, percentage, ETA and note; forced on without a terminal, LION_PROGRESS=0 wins', () => {
  const p = new Progress('encode', 200, 'texts', true);
  const t0 = Date.now();
  (p as unknown as { start: number }).start = t0 - 10_000; // 10 s ago
  const write = process.stderr.write;
  let out = '';
  process.stderr.write = ((s: string) => { out += s; return true; }) as typeof process.stderr.write;
  try { p.tick(50); } finally { process.stderr.write = write; }
  p.setNote('loss 0.5');
  const line = p.line(t0);
  assert.match(line, /encode \[#+\.+\] 50\/200 25% ETA 30s 5\.0 texts\/s elapsed 10s loss 0\.5/);
  if (!process.stderr.isTTY) assert.match(out, /50\/200/, 'forced output is a plain line in a log');
  const env = process.env.LION_PROGRESS;
  process.env.LION_PROGRESS = '0';
  assert.equal(progressEnabled(true), false);
  delete process.env.LION_PROGRESS;
  assert.equal(progressEnabled(true), true);
  if (!process.stderr.isTTY) assert.equal(progressEnabled(false), false);
  if (env !== undefined) process.env.LION_PROGRESS = env;
});

test('countLines counts non-blank lines (the total of a corpus) and formatSeconds reads well', () => {
  assert.equal(countLines(writeTemp('a\nb\n\nc')), 3);
  assert.equal(countLines(writeTemp('a\r\nb\r\n')), 2);
  assert.equal(countLines('/no/such/file'), undefined);
  assert.equal(formatSeconds(5), '5s');
  assert.equal(formatSeconds(185), '3m05s');
  assert.equal(formatSeconds(3720), '1h02m');
  assert.equal(formatSeconds(NaN), '?');
});
