/**
 * The command registry: one import and one entry per command module. Keep this list sorted by name.
 */
import type { Command } from '../command.js';
import { bm25IndexCommand, bm25SearchCommand } from './bm25.js';
import { evalCommand } from './eval.js';
import { quickstartCommand } from './quickstart.js';
import { serveCommand } from './serve.js';

export const commands: Command[] = [
  bm25IndexCommand,
  bm25SearchCommand,
  evalCommand,
  quickstartCommand,
  serveCommand,
];
