/**
 * Errors Lion raises on purpose. Every error has a stable `code` (for scripts and tests), a message that
 * names the offending file, line or field when there is one, and a one-line `hint` saying what to do.
 * The CLI prints `lion: <code>: <message>` and the hint, never a stack trace, for these errors.
 */

export interface LionErrorOptions {
  /** File the problem was found in. */
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
  /** Field, tensor or record that is wrong. */
  field?: string;
  /** One line telling the user what to do about it. */
  hint?: string;
  cause?: unknown;
}

export class LionError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;

  constructor(code: string, message: string, opts: LionErrorOptions = {}) {
    const where = [opts.file, opts.line !== undefined ? `line ${opts.line}` : undefined].filter(Boolean).join(':');
    super(where ? `${where}: ${message}` : message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint ?? '';
    this.file = opts.file;
    this.line = opts.line;
    this.field = opts.field;
  }
}

/** Malformed input data: a line that does not parse, a missing field, a value of the wrong kind. */
export class FormatError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_FORMAT', message, { hint: 'fix or regenerate the input file', ...opts });
  }
}

/** A file or directory that should exist does not, or cannot be read. */
export class NotFoundError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_NOT_FOUND', message, { hint: 'check the path', ...opts });
  }
}

/** Bad command-line options or API arguments (unknown flag, out-of-range value, invalid combination). */
export class UsageError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_USAGE', message, { hint: 'check the options or arguments given', ...opts });
  }
}

/** A binary artefact (index, shard, checkpoint) with a wrong magic number, version, dtype or size. */
export class ArtifactError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_ARTIFACT', message, { hint: 'rebuild the file with this version of Lion', ...opts });
  }
}

/** Model files that do not fit the declared architecture: a missing tensor, a wrong shape, an unknown dtype. */
export class ModelError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_MODEL', message, { hint: 'check that the weights match config.json', ...opts });
  }
}

/** Shapes or dimensions that do not agree (query dim vs index dim, vocabulary size, ...). */
export class ShapeError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_SHAPE', message, { hint: 'make sure both sides come from the same model', ...opts });
  }
}

/** A binary artefact whose contents do not match the checksum recorded in it (bit rot, an edit, a bad copy). */
export class ChecksumError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_CHECKSUM', message, { hint: 'the file is damaged: rebuild it or copy it again', ...opts });
  }
}

/** Query vectors or a query encoder that do not come from the encoder an index was built with. */
export class ForeignError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_FOREIGN', message, { hint: 'use the encoder the index was built with, or pass --allow-foreign-queries if you mean it', ...opts });
  }
}

/** A NaN or infinite number where a finite one is required (model outputs, vectors, scores). */
export class NonFiniteError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_NONFINITE', message, { hint: 'check the model weights and config (norm eps, dtype) or the input numbers', ...opts });
  }
}

/** A resource held by another process (a training folder's lock). */
export class BusyError extends LionError {
  constructor(message: string, opts: LionErrorOptions = {}) {
    super('E_BUSY', message, { hint: 'wait for the other process, or remove a stale lock file if its process is gone', ...opts });
  }
}

export function isLionError(e: unknown): e is LionError {
  return e instanceof LionError;
}
