import { strict as assert } from 'node:assert';
import test from 'node:test';
import { parseArgs } from '../../src/cli/args.js';
import { UsageError } from '../../src/errors.js';

const table = {
  qrels: { kind: 'string', help: 'qrels file', required: true },
  k: { kind: 'int', help: 'depth', default: 1000 },
  measure: { kind: 'string', help: 'measure', short: 'm', multiple: true },
  complete: { kind: 'boolean', help: 'average over all qrels topics', short: 'c' },
} as const;

test('parses values, defaults, repeats, shorts and positionals', () => {
  const a = parseArgs(['--qrels', 'q.txt', '-m', 'map', '--measure=P.10', '-c', 'extra'], table);
  assert.equal(a.qrels, 'q.txt');
  assert.equal(a.k, 1000);
  assert.deepEqual(a.measure, ['map', 'P.10']);
  assert.equal(a.complete, true);
  assert.deepEqual(a._, ['extra']);
});

test('rejects unknown flags, missing required values and bad integers', () => {
  assert.throws(() => parseArgs(['--qrels', 'q', '--nope'], table), UsageError);
  assert.throws(() => parseArgs([], table), /--qrels is required/);
  assert.throws(() => parseArgs(['--qrels', 'q', '--k', '1.5'], table), /integer/);
  assert.throws(() => parseArgs(['--qrels'], table), /needs a value/);
});
