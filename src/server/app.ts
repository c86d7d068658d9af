/**
 * `createLionServer`: the HTTP API and the web page on node:http, over any number of `SearchSystem`s.
 *
 * Routes (all JSON unless noted; errors are `{error: {status, code, message, field?}}`):
 *   GET  /                       the page (static files from src/server/public, served from memory)
 *   GET  /api/health             status, systems, documents
 *   GET  /api/metrics            request counts by route and status, latency percentiles, memory
 *   GET  /api/systems            what each system is and which query forms it accepts
 *   GET|POST /api/search         q | sparse | dense, k, systems, explain → per-system hits + RRF fusion
 *   GET|POST /api/explain        system, q | sparse, docid → per-term contributions of that document
 *   GET  /api/doc/<docid>        the document's title and text (needs --corpus)
 *   POST /api/evaluate           qrels + one or two runs (uploaded text or server paths) → per-query metric
 *
 * Robustness: bodies are bounded (413), every parameter is validated (400 with the field), each request has
 * a deadline (503 E_TIMEOUT), and `close()` stops accepting connections, lets in-flight requests finish,
 * then releases the systems.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import type { Hit } from '../types.js';
import type { EvalOptions } from './evaluate.js';
import { rrf } from './fusion.js';
import { HttpError, badRequest, parseJsonObject, readBody, sendError, sendJson, toHttpError } from './http.js';
import { Metrics } from './metrics.js';
import { loadStatic, lookupStatic, type StaticFile } from './static.js';
import type { DocStore, SearchSystem } from './system.js';
import { parseSearch, type Limits } from './validate.js';

export interface ServerOptions {
  systems: SearchSystem[];
  /** Document text for display and `/api/doc`; without it hits carry ids only. */
  docs?: DocStore;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  limits?: Partial<Limits>;
  /** Default k when a request gives none. */
  k?: number;
  /** Per-request deadline in milliseconds. */
  timeoutMs?: number;
  maxBodyBytes?: number;
  maxEvalBodyBytes?: number;
  /** Folders whose files the evaluation view may open by server path. */
  fileRoots?: string[];
  /** Where to write one line per notable event (start, shutdown, 5xx); default stderr. */
  log?: (line: string) => void;
}

export interface LionServer {
  /** @internal the node:http server (its type would tie the public types to @types/node) */
  server: Server;
  /** The bound URL, e.g. http://127.0.0.1:8080 */
  url: string;
  metrics: Metrics;
  /** The systems served, in the order the page shows them. */
  systems: SearchSystem[];
  /** Stop accepting, finish in-flight requests (forcing them after `graceMs`), release the systems. */
  close(graceMs?: number): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const SNIPPET_CHARS = 280;

/** Start the server; resolves once it is listening. */
export async function createLionServer(opts: ServerOptions): Promise<LionServer> {
  const d = DEFAULTS.serve;
  const names = new Set<string>();
  for (const s of opts.systems) {
    if (names.has(s.info.name)) throw new UsageError(`two systems are named '${s.info.name}'; names must be unique`, { field: 'index' });
    names.add(s.info.name);
  }
  const limits: Limits = { maxK: d.maxK, maxQueryChars: d.maxQueryChars, maxSparseTerms: d.maxSparseTerms, ...opts.limits };
  const k0 = opts.k ?? d.k;
  const timeoutMs = opts.timeoutMs ?? d.timeoutMs;
  const maxBody = opts.maxBodyBytes ?? d.maxBodyBytes;
  const maxEvalBody = opts.maxEvalBodyBytes ?? d.maxEvalBodyBytes;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const metrics = new Metrics(d.metricsWindow);
  const files = loadStatic();
  const evalOpts: EvalOptions = { fileRoots: opts.fileRoots ?? [process.cwd()] };
  let closing = false;

  const docView = (h: Hit) => {
    const doc = opts.docs?.get(h.docid);
    const text = doc?.text ?? '';
    return { title: doc?.title ?? '', snippet: text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text };
  };

  const systemsInfo = () => opts.systems.map((s) => ({ ...s.info, explains: typeof s.explain === 'function' }));

  async function params(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    if (req.method === 'POST') return parseJsonObject(await readBody(req, maxBody));
    return Object.fromEntries(url.searchParams);
  }

  const search: Handler = async (req, res, url) => {
    const t0 = performance.now();
    const r = parseSearch(await params(req, url), opts.systems, limits, k0);
    // Systems run concurrently: text queries to neural systems wait on their own encoder workers in parallel.
    const results = await Promise.all(r.systems.map(async (s) => {
      const t1 = performance.now();
      const hits = await s.search(r.query, r.k);
      const took = performance.now() - t1;
      const terms = s.queryTerms ? await s.queryTerms(r.query) : undefined;
      const out = [];
      for (let i = 0; i < hits.length; i++) {
        const h = hits[i]!;
        // Replies list the largest contributions and sum the rest (a learned sparse hit can match thousands of
        // tokens); /api/explain has them all.
        const e = r.explain && s.explain ? await s.explain(r.query, h.docid, d.shownTerms) : undefined;
        const contrib = e ? { contributions: e.terms, ...(e.rest ? { otherContributions: e.rest } : {}) } : {};
        out.push({ rank: i + 1, docid: h.docid, score: h.score, ...docView(h), ...contrib });
      }
      const shown = terms && terms.length > d.shownTerms ? { terms: terms.slice(0, d.shownTerms), termsTotal: terms.length } : terms ? { terms } : {};
      return { system: s.info.name, kind: s.info.kind, took_ms: round(took), ...shown, hits: out };
    }));
    const fused = results.length >= 2
      ? {
          method: 'rrf',
          c: DEFAULTS.fusion.rrfK,
          systems: results.map((x) => x.system),
          hits: rrf(results.map((x) => x.hits), r.k).map((h, i) => ({ rank: i + 1, docid: h.docid, score: h.score, ranks: h.ranks, ...docView(h) })),
        }
      : null;
    sendJson(res, 200, { form: r.form, k: r.k, took_ms: round(performance.now() - t0), results, fused });
  };

  const explain: Handler = async (req, res, url) => {
    const p = await params(req, url);
    const { system, docid, ...rest } = p;
    if (typeof system !== 'string' || system === '') throw badRequest('system is required: the name of a served system', 'system');
    if (typeof docid !== 'string' || docid === '') throw badRequest('docid is required', 'docid');
    const r = parseSearch({ ...rest, systems: system }, opts.systems, limits, k0);
    const s = r.systems[0]!;
    if (!s.explain) throw badRequest(`system '${system}' (${s.info.kind}) has no per-term explanation`, 'system');
    const e = await s.explain(r.query, docid);
    if (!e) throw new HttpError(404, 'E_NOT_FOUND', `document '${docid}' is not in system '${system}'`, 'docid');
    const terms = s.queryTerms ? await s.queryTerms(r.query) : undefined;
    sendJson(res, 200, { system, ...e, ...(terms ? { queryTerms: terms } : {}) });
  };

  const doc: Handler = async (_req, res, url) => {
    let id: string;
    try {
      id = decodeURIComponent(url.pathname.slice('/api/doc/'.length));
    } catch {
      throw badRequest('the document id in the path is not valid percent-encoding', 'docid');
    }
    if (!opts.docs) throw new HttpError(404, 'E_NO_CORPUS', 'no corpus is loaded; start the server with --corpus to fetch documents');
    const found = opts.docs.get(id);
    if (!found) throw new HttpError(404, 'E_NOT_FOUND', `no document with id '${id.slice(0, 200)}'`, 'docid');
    sendJson(res, 200, found);
  };

  const evaluate: Handler = async (req, res) => {
    const body = parseJsonObject(await readBody(req, maxEvalBody));
    // Loaded on first use: the evaluator is not needed to search.
    const { evaluateRequest } = await import('./evaluate.js');
    sendJson(res, 200, await evaluateRequest(body, evalOpts));
  };

  const routes: Record<string, { methods: string[]; handler: Handler }> = {
    '/api/health': {
      methods: ['GET'],
      handler: async (_q, res) =>
        sendJson(res, closing ? 503 : 200, { status: closing ? 'closing' : 'ok', systems: systemsInfo(), documents: opts.docs?.size ?? 0 }),
    },
    '/api/metrics': {
      methods: ['GET'],
      handler: async (_q, res) =>
        sendJson(res, 200, { ...metrics.snapshot(), systems: Object.fromEntries(opts.systems.map((s) => [s.info.name, s.stats?.() ?? {}])) }),
    },
    '/api/systems': { methods: ['GET'], handler: async (_q, res) => sendJson(res, 200, { systems: systemsInfo(), limits, k: k0, documents: opts.docs?.size ?? 0 }) },
    '/api/search': { methods: ['GET', 'POST'], handler: search },
    '/api/explain': { methods: ['GET', 'POST'], handler: explain },
    '/api/evaluate': { methods: ['POST'], handler: evaluate },
  };

  function route(url: URL): { name: string; methods: string[]; handler: Handler } | undefined {
    const r = routes[url.pathname];
    if (r) return { name: url.pathname, ...r };
    if (url.pathname.startsWith('/api/doc/')) return { name: '/api/doc', methods: ['GET'], handler: doc };
    return undefined;
  }

  /** The metrics label of a request: its route, 'static', or 'invalid'. */
  function routeName(raw: string | undefined): string {
    try {
      const u = new URL(raw ?? '/', 'http://localhost');
      return route(u)?.name ?? (u.pathname.startsWith('/api/') ? 'api_unknown' : 'static');
    } catch {
      return 'invalid';
    }
  }

  const serveStatic = (req: IncomingMessage, res: ServerResponse) => {
    // The raw path, not url.pathname: URL parsing would silently resolve '..' segments we want to refuse.
    const f: StaticFile = lookupStatic(files, (req.url ?? '/').split('?')[0]!);
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : f.body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError(400, 'E_BAD_PATH', 'the request URL does not parse');
    }
    const r = route(url);
    if (!r) {
      if (url.pathname.startsWith('/api/')) throw new HttpError(404, 'E_NOT_FOUND', `no API route ${url.pathname.slice(0, 200)}`);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'E_METHOD', `${req.method} is not allowed on static files; use GET`);
      serveStatic(req, res);
      return 'static';
    }
    if (!r.methods.includes(req.method ?? '')) {
      res.setHeader('allow', r.methods.join(', '));
      throw new HttpError(405, 'E_METHOD', `${req.method} is not allowed on ${r.name}; use ${r.methods.join(' or ')}`);
    }
    await r.handler(req, res, url);
    return r.name;
  }

  const server = createServer((req, res) => {
    const end = metrics.begin();
    let name = routeName(req.url);
    if (closing) res.setHeader('connection', 'close');
    const timer = setTimeout(() => {
      sendError(res, new HttpError(503, 'E_TIMEOUT', `the request took longer than ${timeoutMs} ms and was abandoned`));
    }, timeoutMs);
    res.on('close', () => {
      clearTimeout(timer);
      end(name, res.statusCode);
    });
    handle(req, res)
      .then((n) => {
        name = n;
      })
      .catch((e: unknown) => {
        const he = toHttpError(e);
        if (he.status >= 500) log(`lion serve: ${req.method} ${req.url?.slice(0, 200)}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        sendError(res, he);
      });
  });
  // Requests Node's parser refuses (oversized headers, malformed request lines): a JSON 4xx like every other
  // error, and the rest of the input read and dropped so the client gets the reply rather than a reset.
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    if (!socket.writable || (err.code !== 'HPE_HEADER_OVERFLOW' && !err.code?.startsWith('HPE_'))) {
      socket.destroy();
      return;
    }
    const [status, text] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    const body = JSON.stringify({ error: { status, code: status === 431 ? 'E_HEADERS_TOO_LARGE' : 'E_BAD_REQUEST', message: status === 431 ? 'request headers exceed 16 KiB' : `malformed HTTP request (${err.code})` } });
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    socket.on('data', () => {}); // drain what the client is still sending
    setTimeout(() => socket.destroy(), 5000).unref();
    const end = metrics.begin();
    end('invalid', status);
  });
  server.requestTimeout = Math.max(timeoutMs * 2, 30_000);
  server.headersTimeout = 20_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? d.port, opts.host ?? d.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  let closed: Promise<void> | undefined;
  const close = (graceMs = d.shutdownGraceMs): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await done;
      clearInterval(idle);
      clearTimeout(force);
      for (const s of opts.systems) await s.close?.();
    })();
    return closed;
  };

  return { server, url: `http://${host}:${addr.port}`, metrics, systems: opts.systems, close };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
