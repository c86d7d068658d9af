/**
 * Live indexes in the server: a `SearchSystem` over a `LiveIndex` (src/index/live), and the handlers of the
 * write routes (`POST /api/live/add`, `/api/live/delete`, `/api/live/merge`; `GET /api/live`).
 *
 * Writes change what every client sees, so they are authenticated: when the server listens beyond the
 * loopback interface a token is required (`Authorization: Bearer TOKEN`, token from `--live-token` or
 * LION_LIVE_TOKEN); without a token such a server refuses writes with 403. On loopback a configured token is
 * still checked. Each write request is applied and committed before the reply, so the reply's generation is
 * durable and the next search sees it; merging happens in the background after commits.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { UsageError } from '../errors.js';
import { LiveIndex, type LiveDoc, type LiveQuery } from '../index/live/live.js';
import type { Hit, SparseVec } from '../types.js';
import { badRequest, HttpError } from './http.js';
import type { SearchSystem, SystemInfo, SystemQuery } from './system.js';

/** A search system over a live index; `info.docs` follows the last commit. */
export function liveSystem(name: string, live: LiveIndex, description = ''): SearchSystem & { live: LiveIndex } {
  const kind = live.config.kind;
  const info: SystemInfo = {
    name,
    kind,
    get docs() { return live.size; },
    ...(kind === 'sparse' ? { dim: live.config.vocab } : kind === 'dense' ? { dim: live.config.dim } : {}),
    accepts: kind === 'bm25' ? ['text'] : kind === 'sparse' ? ['sparse'] : ['dense'],
    description: description || `live ${kind} index ${live.dir}`,
  };
  const toQuery = (q: SystemQuery): LiveQuery => {
    if (kind === 'bm25' && 'text' in q) return { text: q.text };
    if (kind === 'sparse' && 'sparse' in q) return { sparse: sparseOf(Object.fromEntries(q.sparse), live.config.vocab!, 'sparse') };
    if (kind === 'dense' && 'dense' in q) return { dense: q.dense };
    throw new UsageError(`live ${kind} system '${name}' is searched with ${kind === 'bm25' ? 'text (q)' : kind === 'sparse' ? 'a sparse vector' : 'a dense vector'}`, { field: 'q' });
  };
  return {
    info,
    live,
    async search(q, k): Promise<Hit[]> { return live.search(toQuery(q), k); },
    stats: () => { const s = live.stats(); return { generation: s.generation, segments: s.segments.length, documents: s.documents, deleted: s.deleted }; },
    async close() { await live.close(); },
  };
}

function sparseOf(v: unknown, vocab: number, field: string): SparseVec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`${field} must be an object of term id → weight, e.g. {"17": 0.8}`, field);
  const pairs: Array<[number, number]> = [];
  for (const [t, w] of Object.entries(v as Record<string, unknown>)) {
    const id = Number(t);
    if (!/^\d+$/.test(t) || id >= vocab) throw badRequest(`${field}: term '${t.slice(0, 40)}' must be a vocabulary id below ${vocab}`, field);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw badRequest(`${field}: weight of term ${t} must be a finite number ≥ 0`, field);
    if (w > 0) pairs.push([id, w]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { terms: Uint32Array.from(pairs, (p) => p[0]), weights: Float32Array.from(pairs, (p) => p[1]) };
}

/** Whether an address is the loopback interface (writes need no token there unless one is set). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Refuses a write without the right bearer token (see the file comment). */
export function checkWriteAuth(req: IncomingMessage, host: string, token: string | undefined): void {
  if (!token) {
    if (isLoopback(host)) return;
    throw new HttpError(403, 'E_FORBIDDEN', 'live index writes are disabled: the server listens beyond loopback and no token is set (start it with --live-token or LION_LIVE_TOKEN)');
  }
  const got = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(got), b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(401, 'E_UNAUTHORIZED', 'live index writes need the header Authorization: Bearer <token>');
}

type Live = SearchSystem & { live: LiveIndex };

function pick(systems: SearchSystem[], body: Record<string, unknown>): Live {
  const live = systems.filter((s): s is Live => 'live' in s);
  if (!live.length) throw new HttpError(404, 'E_NOT_FOUND', 'this server has no live index (start it with --live NAME=DIR)');
  const name = body.system ?? (live.length === 1 ? live[0]!.info.name : undefined);
  if (typeof name !== 'string') throw badRequest(`system is required: one of ${live.map((s) => s.info.name).join(', ')}`, 'system');
  const s = live.find((x) => x.info.name === name);
  if (!s) throw new HttpError(404, 'E_NOT_FOUND', `no live system '${name.slice(0, 64)}'; live systems: ${live.map((x) => x.info.name).join(', ')}`, 'system');
  return s;
}

function docsOf(s: Live, v: unknown, maxDocs: number): LiveDoc[] {
  if (!Array.isArray(v) || v.length === 0) throw badRequest('docs must be a non-empty array of documents', 'docs');
  if (v.length > maxDocs) throw badRequest(`docs has ${v.length} documents; at most ${maxDocs} per request`, 'docs');
  const { kind, vocab, dim } = s.live.config;
  return v.map((d: unknown, i) => {
    if (typeof d !== 'object' || d === null) throw badRequest(`docs[${i}] must be an object`, 'docs');
    const r = d as Record<string, unknown>;
    if (typeof r.id !== 'string' || r.id === '') throw badRequest(`docs[${i}].id must be a non-empty string`, 'docs');
    if (kind === 'bm25') {
      if (typeof r.text !== 'string') throw badRequest(`docs[${i}].text must be a string`, 'docs');
      if (r.title !== undefined && typeof r.title !== 'string') throw badRequest(`docs[${i}].title must be a string`, 'docs');
      return r.title !== undefined ? { id: r.id, title: r.title as string, text: r.text } : { id: r.id, text: r.text };
    }
    if (kind === 'sparse') return { id: r.id, sparse: sparseOf(r.sparse, vocab!, `docs[${i}].sparse`) };
    if (!Array.isArray(r.dense) || r.dense.length !== dim || !r.dense.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw badRequest(`docs[${i}].dense must be an array of ${dim} finite numbers`, 'docs');
    }
    return { id: r.id, dense: Float32Array.from(r.dense as number[]) };
  });
}

/** The JSON replies of the live routes. */
export async function liveWrite(op: 'add' | 'delete' | 'merge', systems: SearchSystem[], body: Record<string, unknown>, maxDocs: number): Promise<Record<string, unknown>> {
  const s = pick(systems, body);
  const live = s.live;
  let changed = 0;
  if (op === 'add') {
    const docs = docsOf(s, body.docs, maxDocs);
    live.add(docs);
    changed = docs.length;
  } else if (op === 'delete') {
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) throw badRequest('ids must be a non-empty array of document ids', 'ids');
    if (ids.length > maxDocs) throw badRequest(`ids has ${ids.length} entries; at most ${maxDocs} per request`, 'ids');
    changed = live.delete(ids as string[]);
  } else {
    const m = body.maxSegments ?? 1;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1) throw badRequest('maxSegments must be a positive integer', 'maxSegments');
    await live.merge(m);
  }
  const generation = op === 'merge' ? live.generation : await live.commit();
  return { system: s.info.name, op, changed, ...live.stats(), generation };
}

/** `GET /api/live`: every live system with its segments. */
export function liveInfo(systems: SearchSystem[]): Record<string, unknown> {
  return { systems: systems.filter((s): s is Live => 'live' in s).map((s) => ({ system: s.info.name, ...s.live.stats() })) };
}
