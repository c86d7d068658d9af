/**
 * HTTP plumbing for the server on node:http: a typed 4xx/5xx error, bounded body reading, JSON replies.
 * Every error reply has the same shape, `{error: {status, code, message, field?}}`, so the page and scripts
 * can show what is wrong without parsing prose. Bodies are counted while they stream in and the request is
 * refused with 413 as soon as the limit is passed — an oversized body is never buffered whole.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLionError } from '../errors.js';

/** An error that becomes an HTTP reply with `status` (4xx: the client's fault, with what to fix). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function badRequest(message: string, field?: string): HttpError {
  return new HttpError(400, 'E_BAD_REQUEST', message, field);
}

/** Map a LionError thrown by a library call to the HTTP error it means for the client. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (isLionError(e)) {
    const status = e.code === 'E_NOT_FOUND' ? 404
      : ['E_USAGE', 'E_SHAPE', 'E_FORMAT', 'E_FOREIGN', 'E_NONFINITE'].includes(e.code) ? 400
      : e.code === 'E_BUSY' ? 503 : 500;
    return new HttpError(status, e.code, e.message, e.field);
  }
  return new HttpError(500, 'E_INTERNAL', 'internal error (see the server log)');
}

/** Bytes of a refused body the server will still read (and discard) so the client sees the 413, not a reset. */
const DRAIN_CAP = 256 << 20;

/**
 * Discard the rest of a refused request body, then call `done`. The 413 is sent only once the body is in:
 * a reply sent while the client is still writing makes Node close the connection, and the client then sees
 * a broken pipe or a reset instead of the reply. Past DRAIN_CAP bytes the connection is cut.
 */
function drain(req: IncomingMessage, alreadyRead: number, done: () => void): void {
  let n = alreadyRead;
  req.removeAllListeners('data');
  req.on('data', (c: Buffer) => {
    n += c.length;
    if (n > DRAIN_CAP) req.socket.destroy();
  });
  req.once('end', done);
  req.resume();
}

/**
 * Read the whole body as UTF-8, refusing more than `limit` bytes with 413. A declared Content-Length over
 * the limit is refused before any byte is kept; either way the rest of the body is drained, not buffered.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Refuse at once: the client may never send the body it declared (a 10 GB Content-Length with nothing
    // behind it must not wait for the deadline). What it does send is read and dropped in the background.
    drain(req, 0, () => {});
    return Promise.reject(new HttpError(413, 'E_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        req.removeAllListeners('end');
        drain(req, size, () => reject(new HttpError(413, 'E_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`)));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(new HttpError(400, 'E_BAD_REQUEST', `could not read the request body: ${e.message}`));
      }
    });
  });
}

/** Deepest nesting a request body may have: API inputs are at most a few levels deep. */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a JSON text's arrays and objects (strings skipped), scanning no further than `cap` + 1. */
export function jsonDepth(text: string, cap = MAX_JSON_DEPTH): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) { depth++; if (depth > max) { max = depth; if (max > cap) return max; } }
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Parse a JSON object body; anything else (bad JSON, an array, a number, 64+ levels of nesting) is a 400. */
export function parseJsonObject(body: string): Record<string, unknown> {
  if (body.trim() === '') throw badRequest('request body is empty; expected a JSON object');
  if (jsonDepth(body) > MAX_JSON_DEPTH) throw badRequest(`request body nests arrays/objects more than ${MAX_JSON_DEPTH} levels deep`);
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw badRequest(`request body is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest('request body must be a JSON object');
  return v as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  const error: Record<string, unknown> = { status: e.status, code: e.code, message: e.message };
  if (e.field) error.field = e.field;
  sendJson(res, e.status, { error });
}
