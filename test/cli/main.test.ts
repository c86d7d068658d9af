/**
 * The CLI shell as a new user meets it: a command group without its subcommand lists the subcommands; a usage
 * error points at the real command's help, while the library's own UsageError hint does not mention the CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { repoRoot } from '../helpers.js';

function lion(...argv: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'lion.js'), ...argv], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

for (const [group, subs] of [['bm25', ['index', 'search']], ['rerank', ['score', 'train']], ['study', ['plan', 'report', 'run']]] as const) {
  test(`lion ${group} alone lists its subcommands`, () => {
    const r = lion(group);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`^lion ${group}: choose a subcommand:`));
    for (const s of subs) assert.match(r.err, new RegExp(`lion ${group} ${s} `));
  });
}

test('usage errors name the real command; library hints do not mention the CLI', () => {
  const r = lion('encode', '--paradigm', 'x', '--out', 'o', '--corpus', 'c');
  assert.equal(r.code, 2);
  assert.match(r.err, /see: lion help encode\n/);
  assert.doesNotMatch(new UsageError('bad').hint, /lion/);
});
