/**
 * The command registry: one import and one entry per command module. Keep this list sorted by name.
 */
import type { Command } from '../command.js';
import { evalCommand } from './eval.js';

export const commands: Command[] = [
  evalCommand,
];
