/**
 * `createLionServer`: the HTTP API and the web page on node:http, over any number of `SearchSystem`s.
 *
 * Routes (all JSON unless noted; errors are `{error: {status, code, message, field?}}`):
 *   GET  /                       the page (static files from src/server/public, served from memory)
 *   GET  /api/health             status, systems, documents
 *   GET  /api/metrics            request counts by route and status, latency percentiles, memory
 *   GET  /api/systems            what each system is and which query forms it accepts
 *   GET|POST /api/search         q | sparse | dense, k, systems, explain, fusion (rrf|sum), norm, weights
 *                                → per-system hits + their fusion (RRF, or a weighted sum of normalised scores)
 *   GET|POST /api/explain        system, q | sparse, docid → per-term contributions of that document
 *   GET  /api/doc/<docid>        the document's title and text (needs --corpus)
 *   POST /api/evaluate           qrels + one or two runs (uploaded text or server paths) → per-query metric
 *   POST /api/rerank             q, system, depth → the system's top hits re-scored by the cross-encoder
 *   GET  /api/live               live indexes: segments, deletions, generation
 *   POST /api/live/add|delete|merge   change a live index and commit (token-authenticated off loopback; live.ts)
 *
 * Robustness: bodies are bounded (413, at once for a declared oversize body), JSON nesting is bounded, every
 * parameter is validated (400 with the field), each request has a deadline (503 E_TIMEOUT) whose signal stops
 * its remaining work, open connections are capped (`maxConnections`; the next one gets a 503 and is closed),
 * heavy requests (evaluation, explained searches) are capped (`maxHeavy`; 503 E_BUSY), explanations cover the
 * first `EXPLAINED_HITS` hits and yield to the event loop between hits, and `close()` stops accepting
 * connections, lets in-flight responses finish writing (the sockets are ended, not cut), then releases the
 * systems; only after `graceMs` are the remaining connections cut.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { DEFAULTS } from '../defaults.js';
import { UsageError } from '../errors.js';
import type { Hit } from '../types.js';
import type { EvalOptions } from './evaluate.js';
import { fuseLists, parseFusion } from './fusion.js';
import { HttpError, badRequest, parseJsonObject, readBody, sendError, sendJson, toHttpError } from './http.js';
import { checkWriteAuth, liveInfo, liveSystem, liveWrite } from './live.js';
import { Metrics } from './metrics.js';
import { rerankRun } from '../rerank/run.js';
import type { Reranker } from '../train/rerank.js';
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
  /** Example queries the page's opening view offers (e.g. taken from the collection's queries). */
  examples?: string[];
  /** The collection's name, shown on the opening view. */
  collectionName?: string;
  /** A cross-encoder for `POST /api/rerank` (re-scores a system's top hits for a text query). */
  reranker?: Reranker;
  /** Bearer token for live-index writes (required for writes when `host` is not loopback). */
  liveToken?: string;
  /** Where to write one line per notable event (start, shutdown, 5xx); default stderr. */
  log?: (line: string) => void;
  /** Open connections at most; further ones get a 503 and are closed (default 256). */
  maxConnections?: number;
  /** Heavy requests (evaluations, explained searches) in progress at most; more get 503 E_BUSY (default 2). */
  maxHeavy?: number;
}

/** Hits per system that a search with `explain` explains (the rest come without contributions). @internal */
export const EXPLAINED_HITS = 100;

const signals = new WeakMap<IncomingMessage, AbortSignal>();

/** The deadline signal of a request: aborted when its deadline passes or its client goes away. @internal */
export function requestSignal(req: IncomingMessage): AbortSignal | undefined {
  return signals.get(req);
}

/** Throws the request's 503 once its deadline has passed, so abandoned work stops at the next check. @internal */
export function checkDeadline(req: IncomingMessage): void {
  if (signals.get(req)?.aborted) throw new HttpError(503, 'E_TIMEOUT', 'the request passed its deadline and was abandoned');
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
  const maxHeavy = opts.maxHeavy ?? 2;
  let heavy = 0;
  /** Runs `fn` as one of at most `maxHeavy` heavy requests; over the cap the client is told to retry. */
  const asHeavy = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (heavy >= maxHeavy) throw new HttpError(503, 'E_BUSY', `the server is already running ${heavy} heavy requests (evaluations or explained searches); retry shortly`);
    heavy++;
    try { return await fn(); } finally { heavy--; }
  };

  const docView = (h: Hit) => {
    const doc = opts.docs?.get(h.docid) ?? liveDoc(h.docid);
    const text = doc?.text ?? '';
    return { title: doc?.title ?? '', snippet: text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text };
  };

  // Text of documents held by live BM25 systems (added after start-up), for display.
  const liveDoc = (id: string): { id: string; title?: string; text: string } | undefined => {
    for (const s of opts.systems) {
      const d = 'live' in s ? (s as ReturnType<typeof liveSystem>).live.get(id) : undefined;
      if (d && d.text !== undefined) return d.title !== undefined ? { id, title: d.title, text: d.text } : { id, text: d.text };
    }
    return undefined;
  };

  const liveRoute = (op: 'add' | 'delete' | 'merge'): Handler => async (req, res) => {
    checkWriteAuth(req, opts.host ?? d.host, opts.liveToken ?? process.env.LION_LIVE_TOKEN);
    const body = parseJsonObject(await readBody(req, maxEvalBody));
    sendJson(res, 200, await liveWrite(op, opts.systems, body, DEFAULTS.serve.maxLiveDocs));
  };

  // POST /api/rerank {q, system, k?, depth?}: the system's top `depth` hits for q, re-scored by the cross-encoder.
  const rerank: Handler = async (req, res) => {
    if (!opts.reranker) throw new HttpError(404, 'E_NO_RERANKER', 'no cross-encoder is loaded; start the server with --reranker DIR');
    const body = parseJsonObject(await readBody(req, maxBody));
    const { system, depth, ...rest } = body;
    const dep = depth ?? DEFAULTS.rerank.depth;
    if (typeof dep !== 'number' || !Number.isInteger(dep) || dep < 1 || dep > limits.maxK) throw badRequest(`depth must be an integer 1..${limits.maxK}`, 'depth');
    const r = parseSearch({ ...rest, systems: system }, opts.systems, limits, k0);
    if (r.form !== 'text') throw badRequest('re-ranking needs a text query (q)', 'q');
    const s = r.systems[0]!;
    const t0 = performance.now();
    const first = await s.search(r.query, dep);
    const text = (id: string) => { const x = opts.docs?.get(id) ?? liveDoc(id); return x ? (x.title ? `${x.title} ${x.text}` : x.text) : undefined; };
    const q = (r.query as { text: string }).text;
    const run = rerankRun(opts.reranker, new Map([['q', first]]), new Map([['q', q]]), text, { depth: dep });
    const hits = run.get('q')!.slice(0, r.k);
    const firstRank = new Map(first.map((h, i) => [h.docid, i + 1]));
    sendJson(res, 200, { system: s.info.name, depth: dep, k: r.k, took_ms: round(performance.now() - t0), hits: hits.map((h, i) => ({ rank: i + 1, docid: h.docid, score: h.score, firstRank: firstRank.get(h.docid) ?? null, ...docView(h) })) });
  };

  const systemsInfo = () => opts.systems.map((s) => ({ ...s.info, explains: typeof s.explain === 'function' }));

  async function params(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    if (req.method === 'POST') return parseJsonObject(await readBody(req, maxBody));
    return Object.fromEntries(url.searchParams);
  }

  const search: Handler = async (req, res, url) => {
    const t0 = performance.now();
    const { fusion: fm, norm: fn, weights: fw, ...searchParams } = await params(req, url);
    const fusion = parseFusion(fm, fn, fw);
    const r = parseSearch(searchParams, opts.systems, limits, k0);
    if (fusion.weights && fusion.weights.length !== r.systems.length) throw badRequest(`weights has ${fusion.weights.length} values for ${r.systems.length} systems`, 'weights');
    const run = () => searchSystems(req, r);
    const results = r.explain ? await asHeavy(run) : await run();
    checkDeadline(req);
    const fused = results.length >= 2

      ? {
          method: fusion.method,
          c: DEFAULTS.fusion.rrfK,
          ...(fusion.method === 'sum' ? { norm: fusion.norm } : {}),
          weights: fusion.weights ?? results.map(() => 1),
          systems: results.map((x) => x.system),
          hits: fuseLists(results.map((x) => x.hits), r.k, fusion).map((h, i) => ({ rank: i + 1, docid: h.docid, score: h.score, ranks: h.ranks, ...docView(h) })),
        }
      : null;
    sendJson(res, 200, { form: r.form, k: r.k, took_ms: round(performance.now() - t0), results, fused });
  };

  /** Every chosen system's hits (explained when asked), systems concurrently. */
  async function searchSystems(req: IncomingMessage, r: ReturnType<typeof parseSearch>) {
    // Systems run concurrently: text queries to neural systems wait on their own encoder workers in parallel.
    return Promise.all(r.systems.map(async (s) => {
      const t1 = performance.now();
      const hits = await s.search(r.query, r.k);
      const took = performance.now() - t1;
      checkDeadline(req);
      const terms = s.queryTerms ? await s.queryTerms(r.query) : undefined;
      const out = [];
      for (let i = 0; i < hits.length; i++) {
        const h = hits[i]!;
        // Replies list the largest contributions and sum the rest (a learned sparse hit can match thousands of
        // tokens); /api/explain has them all. Explanations are bounded and yield between hits so that one
        // request cannot hold the event loop (health checks, other clients) for seconds.
        let e;
        if (r.explain && s.explain && i < EXPLAINED_HITS) {
          if (i % 8 === 7) { await yieldNow(); checkDeadline(req); }
          e = await s.explain(r.query, h.docid, d.shownTerms);
        }
        const contrib = e ? { contributions: e.terms, ...(e.rest ? { otherContributions: e.rest } : {}) } : {};
        out.push({ rank: i + 1, docid: h.docid, score: h.score, ...docView(h), ...contrib });
      }
      const shown = terms && terms.length > d.shownTerms ? { terms: terms.slice(0, d.shownTerms), termsTotal: terms.length } : terms ? { terms } : {};
      return { system: s.info.name, kind: s.info.kind, took_ms: round(took), ...shown, hits: out };
    }));
  }

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
    // The heavy-request slot is taken before the (up to 64 MiB) body is read: a refused request costs nothing.
    const out = await asHeavy(async () => {
      const body = parseJsonObject(await readBody(req, maxEvalBody));
      checkDeadline(req);
      // Loaded on first use: the evaluator is not needed to search.
      const { evaluateRequest } = await import('./evaluate.js');
      return evaluateRequest(body, { ...evalOpts, signal: requestSignal(req) });
    });
    checkDeadline(req);
    sendJson(res, 200, out);
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
    '/api/systems': {
      methods: ['GET'],
      handler: async (_q, res) => sendJson(res, 200, {
        systems: systemsInfo(), limits, k: k0, documents: opts.docs?.size ?? 0,
        collection: opts.collectionName ?? null, examples: opts.examples ?? [], reranker: Boolean(opts.reranker),
        fusion: { methods: ['rrf', 'sum'], norms: ['minmax', 'zscore', 'none'], default: DEFAULTS.fusion.method, c: DEFAULTS.fusion.rrfK },
      }),
    },
    '/api/search': { methods: ['GET', 'POST'], handler: search },
    '/api/explain': { methods: ['GET', 'POST'], handler: explain },
    '/api/evaluate': { methods: ['POST'], handler: evaluate },
    '/api/rerank': { methods: ['POST'], handler: rerank },
    '/api/live': { methods: ['GET'], handler: async (_q, res) => sendJson(res, 200, liveInfo(opts.systems)) },
    '/api/live/add': { methods: ['POST'], handler: liveRoute('add') },
    '/api/live/delete': { methods: ['POST'], handler: liveRoute('delete') },
    '/api/live/merge': { methods: ['POST'], handler: liveRoute('merge') },
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
    const deadline = new AbortController();
    signals.set(req, deadline.signal);
    const timer = setTimeout(() => {
      deadline.abort();
      sendError(res, new HttpError(503, 'E_TIMEOUT', `the request took longer than ${timeoutMs} ms and was abandoned`));
    }, timeoutMs);
    const sock = req.socket;
    busy.set(sock, (busy.get(sock) ?? 0) + 1);
    res.on('finish', () => {
      busy.set(sock, (busy.get(sock) ?? 1) - 1);
      // Shutting down: end the connection once this response is handed over; end() flushes, never cuts.
      if (closing && busy.get(sock) === 0) sock.end();
    });
    res.on('close', () => {
      clearTimeout(timer);
      deadline.abort(); // the client went away or the reply is done: nothing left to compute for it
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

  // Open connections: counted, capped, and tracked with their requests in flight for a graceful close.
  const sockets = new Set<Socket>();
  const busy = new Map<Socket, number>();
  const maxConnections = opts.maxConnections ?? 256;
  server.on('connection', (socket: Socket) => {
    if (sockets.size >= maxConnections || closing) {
      const body = JSON.stringify({ error: { status: 503, code: 'E_BUSY', message: closing ? 'the server is shutting down' : `the server holds ${sockets.size} connections, its limit; retry shortly` } });
      socket.on('error', () => {});
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`);
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => { sockets.delete(socket); busy.delete(socket); });
  });

  const host0 = opts.host ?? d.host;
  const port0 = opts.port ?? d.port;
  await new Promise<void>((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new UsageError(`port ${port0} on ${host0} is already in use`, { field: 'port', hint: 'stop the other server or pick another --port (0 picks a free one)' }));
      else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EADDRNOTAVAIL' || e.code === 'EAI_NONAME') reject(new UsageError(`--host ${host0} is not an address of this machine (${e.code})`, { field: 'host', hint: 'use 127.0.0.1, 0.0.0.0 or a name that resolves to this machine' }));
      else if (e.code === 'EACCES') reject(new UsageError(`not allowed to listen on port ${port0} (${e.code})`, { field: 'port', hint: 'ports below 1024 need privileges; pick another --port' }));
      else reject(e);
    };
    server.once('error', fail);
    server.listen(port0, host0, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  let closed: Promise<void> | undefined;
  const close = (graceMs = d.shutdownGraceMs): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      // Stop listening through net.Server's close: http.Server.close() would first destroy every connection
      // without a request in progress, including one whose last response is still flushing to a slow client.
      const done = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      // Idle keep-alive connections are ended now; busy ones when their response has been handed over (the
      // 'finish' hook above). end() sends what is buffered before closing: no response is cut short.
      for (const sock of sockets) if (!busy.get(sock)) sock.end();
      const force = setTimeout(() => { for (const sock of sockets) sock.destroy(); server.closeAllConnections(); }, graceMs);
      await done;
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
