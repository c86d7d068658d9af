/**
 * `lion` entry point: finds the command (longest match of up to two words), runs it, and turns
 * LionErrors into a one-line message plus hint with exit code 2. Anything else is a bug and keeps its stack.
 */
import { isLionError } from '../errors.js';
import { formatHelp } from './args.js';
import type { Command } from './command.js';
import { commands } from './commands/registry.js';

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
    const sys = systemErrorText(e);
    if (sys) {
      process.stderr.write(`lion ${cmd.name}: E_IO: ${sys.message}\n  hint: ${sys.hint}\n`);
      return 2;
    }
    throw e;
  }
}

/** Operating-system errors (disk full, permissions, ...) the user can act on: a message and a hint, no stack. */
const SYSTEM_HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full: free space or write elsewhere',
  EDQUOT: 'the disk quota is exhausted: free space or write elsewhere',
  EACCES: 'check the permissions of the file or folder',
  EPERM: 'check the permissions of the file or folder',
  EROFS: 'the file system is read-only: write elsewhere',
  EISDIR: 'a folder was given where a file was expected',
  ENOTDIR: 'a file was given where a folder was expected',
  EEXIST: 'a file is in the way of a folder that had to be created: check the output path',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'the path has a symbolic-link loop',
  ENOTEMPTY: 'the folder is not empty',
  EXDEV: 'the rename crosses file systems: write the output on the same file system',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
  ENFILE: 'too many open files on the system',
  EIO: 'the device reported an input/output error',
  ENOENT: 'check the path',
  EADDRINUSE: 'the port is in use: pick another with --port (0 picks a free one)',
  EADDRNOTAVAIL: 'the address is not on this machine: check --host',
  ENOTFOUND: 'the host name does not resolve: check --host',
  EAI_AGAIN: 'the host name could not be resolved: check --host',
};

export function systemErrorText(e: unknown): { message: string; hint: string } | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as NodeJS.ErrnoException).code;
  if (!code || !(code in SYSTEM_HINTS)) return undefined;
  const err = e as NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number };
  const what = err.path ?? err.hostname ?? (err.address !== undefined ? `${err.address}${err.port !== undefined ? `:${err.port}` : ''}` : undefined);
  return { message: `${code}${what ? ` (${what})` : ''}: ${e.message.replace(/^[A-Z_]+: /, '')}`, hint: SYSTEM_HINTS[code]! };
}
