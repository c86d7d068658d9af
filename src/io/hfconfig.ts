/**
 * Hugging Face `config.json`: reading it and typed access to its fields, each failure naming the file and
 * the field. Turning a config into Lion's normalised model config is the registry's job
 * (src/model/registry.ts); this file knows only the format.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, ModelError, NotFoundError } from '../errors.js';

/** A parsed config.json and where it came from. */
export interface HfConfig {
  file: string;
  raw: Record<string, unknown>;
}

/** Reads `config.json` from a model directory (or the file itself). */
export function readHfConfig(path: string): HfConfig {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'config.json') : path;
  if (!existsSync(file)) throw new NotFoundError('config.json not found', { file, hint: 'point at a Hugging Face model directory' });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FormatError('config.json is not valid JSON', { file, cause: e });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new FormatError('config.json is not a JSON object', { file });
  return { file, raw: raw as Record<string, unknown> };
}

/** A required (or defaulted) non-negative integer field. */
export function intField(cfg: HfConfig, key: string, fallback?: number): number {
  const v = cfg.raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ModelError(`config field "${key}" must be a non-negative integer (got ${JSON.stringify(v)})`, { file: cfg.file, field: key });
  }
  return v;
}

/** A required (or defaulted) number field. */
export function numField(cfg: HfConfig, key: string, fallback?: number): number {
  const v = cfg.raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ModelError(`config field "${key}" must be a number (got ${JSON.stringify(v)})`, { file: cfg.file, field: key });
  }
  return v;
}

/** A boolean field with a default. */
export function boolField(cfg: HfConfig, key: string, fallback: boolean): boolean {
  const v = cfg.raw[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ModelError(`config field "${key}" must be true or false (got ${JSON.stringify(v)})`, { file: cfg.file, field: key });
  return v;
}

/** An optional integer id field (`bos_token_id` may be a number, a list or null). */
export function idField(cfg: HfConfig, key: string): number | null {
  const v = cfg.raw[key];
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return null;
}
