/** The contract every CLI command implements; commands are registered in `commands/registry.ts`. */
import type { OptTable } from './args.js';

export interface Command {
  /** Name as typed, e.g. `eval` or `bm25 index` (sub-commands use a space). */
  name: string;
  summary: string;
  usage?: string;
  options: OptTable;
  /** Parses nothing itself: receives the raw argv after the command name. Returns the exit code. */
  run(argv: string[]): Promise<number>;
}
