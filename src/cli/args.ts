/**
 * The typed option parser every command uses. A command declares its options as a table; the parser
 * rejects unknown flags, missing required values and malformed numbers with a UsageError, supports
 * `--name value`, `--name=value`, repeated flags (`multiple`), booleans and short aliases (`-q`).
 * Numeric options may declare `min` / `max` (inclusive) and `gt` (exclusive lower bound); a value outside is a
 * UsageError naming the option and the allowed range, so commands never see a nonsensical number.
 * Defaults come from `src/defaults.ts` through the table, so `lion help <cmd>` shows them.
 *
 * A `choice` option takes one of a fixed list of values, typed as the library's own union (`oneOf<Paradigm>(…)`),
 * so a command passes the parsed value to the library without a cast or a hand check. An option renamed for
 * consistency across commands lists its old spelling in `was`: the old flag still works for one release and
 * prints a one-line deprecation warning.
 */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** Refuses an output path that is one of the command's inputs (the same file, through links too). */
export function refuseOverwrite(out: string, inputs: string[], command: string): void {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  const o = real(out);
  for (const i of inputs) {
    if (real(i) === o) throw new UsageError(`${command}: --out ${out} is also an input; it would be overwritten`, { field: 'out', hint: 'write the output to another file' });
  }
}

export type OptKind = 'string' | 'number' | 'int' | 'boolean' | 'choice';

export interface OptSpec {
  kind: OptKind;
  /** One line for `lion help`. */
  help: string;
  short?: string;
  required?: boolean;
  multiple?: boolean;
  default?: string | number | boolean;
  /** Numbers: smallest allowed value (inclusive). */
  min?: number;
  /** Numbers: largest allowed value (inclusive). */
  max?: number;
  /** Numbers: the value must be strictly greater than this. */
  gt?: number;
  /** `choice` (and strings): the allowed values. */
  choices?: readonly string[];
  /** Old spellings of this option, accepted with a deprecation warning for one release. */
  was?: readonly string[];
}

/**
 * The allowed values of a `choice` option, checked against a library union:
 * `oneOf<Paradigm>('sparse', 'dense')` fails to compile if a value is not a `Paradigm`.
 */
export function oneOf<T extends string>(...values: readonly T[]): readonly T[] {
  return values;
}

/** The allowed range of a numeric option, for messages and help ('>= 1', '(0, 1]', ...). */
export function rangeText(spec: OptSpec): string {
  if (spec.min !== undefined && spec.max !== undefined && spec.gt === undefined) return `${spec.min}..${spec.max}`;
  const lo = spec.gt !== undefined ? `> ${spec.gt}` : spec.min !== undefined ? `>= ${spec.min}` : '';
  const hi = spec.max !== undefined ? `<= ${spec.max}` : '';
  return [lo, hi].filter(Boolean).join(' and ');
}

export type OptTable = Record<string, OptSpec>;

/** The value type of one option: numbers, switches, a choice's union, or a string. */
type Value<S extends OptSpec> = S['kind'] extends 'number' | 'int'
  ? number
  : S['kind'] extends 'boolean'
    ? boolean
    : S extends { kind: 'choice'; choices: readonly (infer C)[] }
      ? C
      : string;

export type Parsed<T extends OptTable> = {
  [K in keyof T]: T[K]['multiple'] extends true ? Array<Value<T[K]>> : Value<T[K]>;
} & { _: string[] };

/** Where deprecation warnings go (stderr, one line each); tests pass their own. */
export type Warn = (message: string) => void;
const stderrWarn: Warn = (m) => { process.stderr.write(`${m}\n`); };

function convert(name: string, spec: OptSpec, raw: string): string | number {
  if (spec.kind === 'number' || spec.kind === 'int') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) {
      throw new UsageError(`--${name} expects ${spec.kind === 'int' ? 'an integer' : 'a number'}, got '${raw}'`, { field: name });
    }
    if (spec.kind === 'int' && !Number.isSafeInteger(v)) throw new UsageError(`--${name} is too large: '${raw}'`, { field: name });
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max) || (spec.gt !== undefined && !(v > spec.gt))) {
      throw new UsageError(`--${name} must be ${rangeText(spec)}, got ${raw}`, { field: name });
    }
    return v;
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, got '${raw}'`, { field: name });
  }
  return raw;
}

export function parseArgs<T extends OptTable>(argv: string[], table: T, command = 'lion', warn: Warn = stderrWarn): Parsed<T> {
  const out: Record<string, unknown> = { _: [] as string[] };
  const shortMap = new Map<string, string>();
  const oldNames = new Map<string, string>();
  for (const [name, spec] of Object.entries(table)) {
    if (spec.short) shortMap.set(spec.short, name);
    if (spec.multiple) out[name] = [];
    for (const old of spec.was ?? []) oldNames.set(old, name);
  }
  const warned = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      name = shortMap.get(a.slice(1));
      if (!name) throw new UsageError(`${command}: unknown option '${a}'`, { hint: `run \`lion help ${command}\`` });
    } else {
      (out._ as string[]).push(a);
      continue;
    }
    if (!table[name] && oldNames.has(name)) {
      const now = oldNames.get(name)!;
      if (!warned.has(name)) warn(`${command}: --${name} is deprecated, use --${now} (the old spelling goes in the next release)`);
      warned.add(name);
      name = now;
    }
    const spec = table[name];
    if (!spec) throw new UsageError(`${command}: unknown option '--${name}'`, { hint: `run \`lion help ${command}\`` });
    let value: string | number | boolean;
    if (spec.kind === 'boolean') {
      if (inline === undefined) value = true;
      else if (inline === 'true' || inline === '1') value = true;
      else if (inline === 'false' || inline === '0') value = false;
      else throw new UsageError(`--${name} is a switch; got '=${inline}'`, { field: name });
    } else {
      const raw = inline ?? argv[++i];
      if (raw === undefined) throw new UsageError(`${command}: --${name} needs a value`, { field: name });
      value = convert(name, spec, raw);
    }
    if (spec.multiple) (out[name] as unknown[]).push(value);
    else out[name] = value;
  }
  for (const [name, spec] of Object.entries(table)) {
    if (out[name] === undefined || (spec.multiple && (out[name] as unknown[]).length === 0 && spec.required)) {
      if (spec.required) throw new UsageError(`${command}: --${name} is required (${spec.help})`, { field: name });
      if (spec.default !== undefined) out[name] = spec.default;
      else if (spec.kind === 'boolean') out[name] = false;
    }
  }
  return out as Parsed<T>;
}

/** Render an option table for `lion help <command>`. */
export function formatHelp(command: string, summary: string, table: OptTable, usage?: string): string {
  const lines = [`lion ${command}: ${summary}`, ''];
  if (usage) lines.push(`usage: ${usage}`, '');
  const rows = Object.entries(table).map(([name, s]) => {
    const value = s.kind === 'boolean' ? '' : s.kind === 'choice' && s.choices ? ` <${s.choices.join('|')}>` : ` <${s.kind}>`;
    const flag = `${s.short ? `-${s.short}, ` : ''}--${name}${value}`;
    const extra = [s.required ? 'required' : '', s.multiple ? 'repeatable' : '', rangeText(s),
      s.choices && s.kind !== 'choice' ? `one of ${s.choices.join('|')}` : '', s.default !== undefined ? `default ${s.default}` : '',
      s.was?.length ? `was ${s.was.map((w) => `--${w}`).join(', ')}` : '']
      .filter(Boolean).join(', ');
    return [flag, `${s.help}${extra ? ` (${extra})` : ''}`] as const;
  });
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  for (const [f, h] of rows) lines.push(`  ${f.padEnd(w)}  ${h}`);
  return lines.join('\n');
}
