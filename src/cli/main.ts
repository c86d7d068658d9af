/**
 * `lion` entry point: finds the command (longest match of up to two words), runs it, and turns
 * LionErrors into a one-line message plus hint with exit code 2. Anything else is a bug and keeps its stack.
 */
import { isLionError } from '../errors.js';
import { formatHelp } from './args.js';
import type { Command } from './command.js';
import { commands } from './commands/index.js';

function find(argv: string[]): { cmd?: Command; rest: string[] } {
  for (const n of [2, 1]) {
    const name = argv.slice(0, n).join(' ');
    const cmd = commands.find((c) => c.name === name);
    if (cmd) return { cmd, rest: argv.slice(n) };
  }
  return { rest: argv };
}

function overview(): string {
  const w = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'lion: learned sparse and dense retrieval with decoder-only LLM encoders',
    '',
    'usage: lion <command> [options]      lion help <command>',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    console.log(overview());
    return 0;
  }
  if (argv[0] === 'help') {
    const { cmd } = find(argv.slice(1));
    if (!cmd) {
      console.log(overview());
      return argv.length > 1 ? 2 : 0;
    }
    console.log(formatHelp(cmd.name, cmd.summary, cmd.options, cmd.usage));
    return 0;
  }
  if (argv[0] === '--version') {
    console.log('lion-retrieval 0.1.0');
    return 0;
  }
  const { cmd, rest } = find(argv);
  const subs = cmd ? [] : commands.filter((c) => c.name.startsWith(`${argv[0]} `));
  if (!cmd && subs.length > 0) {
    // a command group (`lion bm25`, `lion rerank`, `lion study`) without its subcommand
    const w = Math.max(...subs.map((c) => c.name.length));
    process.stderr.write([`lion ${argv[0]}: choose a subcommand:`, ...subs.map((c) => `  lion ${c.name.padEnd(w)}  ${c.summary}`), ''].join('\n'));
    return 2;
  }
  if (!cmd) {
    process.stderr.write(`lion: unknown command '${argv.slice(0, 2).join(' ')}'. Run \`lion help\` for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(formatHelp(cmd.name, cmd.summary, cmd.options, cmd.usage));
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (isLionError(e)) {
      process.stderr.write(`lion ${cmd.name}: ${e.code}: ${e.message}\n`);
      if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
      // library errors carry library hints; on the command line a usage error also points at the command's help
      if (e.code === 'E_USAGE' && !e.hint.includes('lion help')) process.stderr.write(`  see: lion help ${cmd.name}\n`);
      return 2;
    }
    throw e;
  }
}
