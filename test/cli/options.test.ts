/**
 * The CLI option tables: `choice` options typed by the library's unions, old spellings accepted with a
 * one-line deprecation warning, help that shows choices, defaults and old names, and defaults that agree across
 * commands (or say in the help why not).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatHelp, oneOf, parseArgs, type OptTable } from '../../src/cli/args.js';
import { commands } from '../../src/cli/commands/registry.js';
import { liveQueryInput } from '../../src/cli/commands/live.js';
import type { Paradigm } from '../../src/encoders/encode.js';
import { UsageError } from '../../src/errors.js';
import { repoRoot } from '../helpers.js';

const table = {
  paradigm: { kind: 'choice', choices: oneOf<Paradigm>('sparse', 'dense'), required: true, was: ['kind'], help: 'sparse or dense' },
  mode: { kind: 'choice', choices: oneOf('exact', 'hnsw'), default: 'exact', help: 'search mode' },
} satisfies OptTable;

test('a choice option yields the library union and refuses other values naming the choices', () => {
  const o = parseArgs(['--paradigm', 'dense'], table, 'x', () => assert.fail('no warning'));
  const p: Paradigm = o.paradigm; // typed: no cast needed
  assert.equal(p, 'dense');
  assert.equal(o.mode, 'exact');
  assert.throws(() => parseArgs(['--paradigm', 'dens'], table), (e: unknown) =>
    e instanceof UsageError && e.message === "--paradigm must be one of sparse, dense, got 'dens'" && e.field === 'paradigm');
  assert.throws(() => parseArgs(['--paradigm', 'sparse', '--mode=ivf'], table), /--mode must be one of exact, hnsw, got 'ivf'/);
});

test('an old spelling still works, with one deprecation line however often it is given', () => {
  const warnings: string[] = [];
  const o = parseArgs(['--kind', 'sparse', '--kind=dense'], table, 'index', (m) => warnings.push(m));
  assert.equal(o.paradigm, 'dense');
  assert.deepEqual(warnings, ['index: --kind is deprecated, use --paradigm (the old spelling goes in the next release)']);
  assert.throws(() => parseArgs(['--kind', 'x'], table, 'index', () => {}), /--paradigm must be one of sparse, dense/);
  assert.throws(() => parseArgs(['--knd', 'sparse'], table), /unknown option '--knd'/);
});

test('help shows the choices, the default and the old spelling', () => {
  const h = formatHelp('index', 'build', table);
  assert.match(h, /--paradigm <sparse\|dense> +sparse or dense \(required, was --kind\)/);
  assert.match(h, /--mode <exact\|hnsw> +search mode \(default exact\)/);
});

test('every command table: choices declared, old spellings collide with no option, defaults are allowed values', () => {
  for (const c of commands) {
    const names = new Set(Object.keys(c.options));
    for (const [n, s] of Object.entries(c.options)) {
      if (s.kind === 'choice') assert.ok(s.choices && s.choices.length > 1, `${c.name} --${n} lists its choices`);
      if (s.choices && s.default !== undefined) assert.ok(s.choices.includes(String(s.default)), `${c.name} --${n} default ${s.default} is a choice`);
      for (const w of s.was ?? []) assert.ok(!names.has(w), `${c.name}: old spelling --${w} of --${n} is also an option`);
    }
  }
});

test('shared settings have one default across commands, or the help of the odd one out says what the others use', () => {
  const concepts = ['seed', 'warmup-ratio', 'save-every', 'negatives', 'doc-max-length', 'lr', 'batch-size', 'query-max-length', 'lora-r', 'lora-alpha', 'lora-dropout', 'tau'];
  for (const name of concepts) {
    const uses = commands.flatMap((c) => (c.options[name]?.default !== undefined ? [{ cmd: c.name, spec: c.options[name]! }] : []));
    const counts = new Map<string, number>();
    for (const u of uses) counts.set(String(u.spec.default), (counts.get(String(u.spec.default)) ?? 0) + 1);
    const common = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    for (const u of uses) {
      if (String(u.spec.default) === common) continue;
      assert.ok(u.spec.help.includes(common!), `${u.cmd} --${name} defaults to ${u.spec.default}, not ${common} as elsewhere, and its help does not say so: ${u.spec.help}`);
    }
  }
});

test('live search: texts for BM25, vectors for sparse and dense (vectors as --queries warn once)', () => {
  const warned: string[] = [];
  assert.equal(liveQueryInput('bm25', 'q.jsonl', undefined, () => assert.fail()), 'q.jsonl');
  assert.throws(() => liveQueryInput('bm25', undefined, 'q.lsv'), /takes query texts \(--queries\)/);
  assert.equal(liveQueryInput('sparse', undefined, 'q.lsv', () => assert.fail()), 'q.lsv');
  assert.equal(liveQueryInput('dense', 'q.f32', undefined, (m) => warned.push(m)), 'q.f32');
  assert.deepEqual(warned, ['live search: query vectors as --queries are deprecated, use --query-vectors (the old spelling goes in the next release)']);
  assert.throws(() => liveQueryInput('dense', undefined, undefined), /--query-vectors is required for a dense live index/);
});

function lion(...argv: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'lion.js'), ...argv], { encoding: 'utf8', env: { ...process.env, LION_THREADS: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('lion index --kind and lion search --queries still run, each with one deprecation line; a bad choice exits 2', () => {
  const d = mkdtempSync(join(tmpdir(), 'lion-opts-'));
  const vec = (id: string, v: Record<string, number>) => JSON.stringify({ id, vector: v });
  writeFileSync(join(d, 'docs.jsonl'), `${[vec('d1', { 3: 1.5, 7: 0.5 }), vec('d2', { 7: 2 })].join('\n')}\n`);
  writeFileSync(join(d, 'q.jsonl'), `${vec('q1', { 7: 1 })}\n`);
  const ix = lion('index', '--kind', 'sparse', '--out', join(d, 'x.lidx'), join(d, 'docs.jsonl'));
  assert.equal(ix.code, 0, ix.err);
  assert.equal(ix.err.split('\n').filter((l) => l.includes('deprecated')).length, 1);
  assert.match(ix.err, /^index: --kind is deprecated, use --paradigm/m);
  const s = lion('search', '--index', join(d, 'x.lidx'), '--queries', join(d, 'q.jsonl'), '--k', '2', '--out', join(d, 'r.trec'));
  assert.equal(s.code, 0, s.err);
  assert.match(s.err, /^search: --queries is deprecated, use --query-vectors/m);
  const bad = lion('index', '--paradigm', 'hybrid', '--out', join(d, 'y.lidx'), join(d, 'docs.jsonl'));
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--paradigm must be one of sparse, dense, got 'hybrid'/);
});

test('lion help shows choices and defaults of the renamed and typed options', () => {
  const idx = lion('help', 'index').out;
  assert.match(idx, /--paradigm <sparse\|dense> .*\(required, was --kind\)/);
  assert.match(idx, /--reorder <bp\|none> .*default none/);
  assert.match(lion('help', 'search').out, /--query-vectors <string> .*was --queries/);
  const train = lion('help', 'train').out;
  assert.match(train, /--objective <cl\|kd\|cl\+kd>/);
  assert.match(train, /--seed <int> .*default 45/);
  assert.match(lion('help', 'mntp').out, /--seed <int> .*retrieval training uses 45.*default 42/);
  assert.match(lion('help', 'encode').out, /--dtype <fp32\|bf16\|int8\|auto> .*default auto/);
  assert.match(lion('help', 'live create').out, /--paradigm <bm25\|sparse\|dense>/);
});
