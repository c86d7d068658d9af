/**
 * Naming a model by its Hugging Face hub id (`meta-llama/Llama-3.2-1B`) when it is already in the local
 * Hugging Face cache. Lion never downloads: a model that is neither a local folder nor cached is a
 * NotFoundError that says where Lion looked.
 *
 * Cache location (as huggingface_hub resolves it): `HF_HUB_CACHE`, else `HF_HOME/hub`, else
 * `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`. Layout of one model:
 *   models--<org>--<name>/refs/<branch>      a file holding the commit hash the branch pointed to
 *   models--<org>--<name>/snapshots/<hash>/  the files of that commit (symlinks into blobs/)
 * A revision is a branch or tag name (read through refs/) or a commit hash (a snapshots/ folder).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { NotFoundError, UsageError } from '../errors.js';

/** The hub cache folder the environment selects (it need not exist). */
export function hubCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env['HF_HUB_CACHE']) return env['HF_HUB_CACHE'];
  if (env['HF_HOME']) return join(env['HF_HOME'], 'hub');
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'huggingface', 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

/** True when `s` has the shape of a hub id (`org/name` or `name`, no path syntax). */
export function looksLikeHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(s) && !s.includes('..') && !/\.(json|safetensors|bin|pt)$/.test(s);
}

/** Options of `resolveModelDir`. */
export interface ResolveOptions {
  /** Branch, tag or commit hash of a cached hub model (default "main"). */
  revision?: string;
  /** Folder relative paths are resolved against (default: the working directory). */
  relativeTo?: string;
  /** Environment to read the cache location from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** The snapshot folder of a cached hub id, or null with the places looked at. */
export function findCachedSnapshot(id: string, opts: ResolveOptions = {}): { dir: string | null; looked: string[] } {
  const revision = opts.revision ?? 'main';
  if (!/^[\w.-]+$/.test(revision)) throw new UsageError(`revision "${revision}" is not a branch, tag or commit hash`, { field: 'revision' });
  const repo = join(hubCacheDir(opts.env), `models--${id.split('/').join('--')}`);
  const ref = join(repo, 'refs', revision);
  const looked = [ref, join(repo, 'snapshots', revision)];
  if (existsSync(ref)) {
    const hash = readFileSync(ref, 'utf8').trim();
    const snap = join(repo, 'snapshots', hash);
    looked.splice(1, 0, snap);
    if (/^[\w.-]+$/.test(hash) && existsSync(snap) && statSync(snap).isDirectory()) return { dir: snap, looked };
  }
  const direct = join(repo, 'snapshots', revision);
  if (existsSync(direct) && statSync(direct).isDirectory()) return { dir: direct, looked };
  // a revision given as a commit-hash prefix
  if (/^[0-9a-f]{7,40}$/.test(revision) && existsSync(join(repo, 'snapshots'))) {
    const hits = readdirSync(join(repo, 'snapshots')).filter((h) => h.startsWith(revision));
    if (hits.length === 1) return { dir: join(repo, 'snapshots', hits[0]!), looked };
  }
  return { dir: null, looked };
}

/**
 * A model or adapter named by a local folder (absolute, or relative to `relativeTo` / the working directory)
 * or by a hub id found in the local cache. Throws a NotFoundError listing every place looked at.
 *
 * @example resolveModelDir('meta-llama/Llama-3.2-1B') // ~/.cache/huggingface/hub/models--meta-llama--Llama-3.2-1B/snapshots/<hash>
 */
export function resolveModelDir(nameOrPath: string, opts: ResolveOptions = {}): string {
  const local = isAbsolute(nameOrPath) ? [nameOrPath]
    : [...(opts.relativeTo ? [resolve(opts.relativeTo, nameOrPath)] : []), resolve(nameOrPath)];
  if (opts.revision === undefined) {
    for (const cand of local) if (existsSync(cand)) return cand;
  }
  const looked = opts.revision === undefined ? [...local] : [];
  if (looksLikeHubId(nameOrPath)) {
    const hit = findCachedSnapshot(nameOrPath, opts);
    if (hit.dir) return hit.dir;
    looked.push(...hit.looked);
  } else if (opts.revision !== undefined) {
    throw new UsageError(`a revision applies to a hub id, and "${nameOrPath}" is a path`, { field: 'revision' });
  }
  throw new NotFoundError(`model "${nameOrPath}"${opts.revision ? ` at revision ${opts.revision}` : ''} is neither a local folder nor in the Hugging Face cache (looked in: ${[...new Set(looked)].join(', ')})`, {
    field: 'model',
    hint: `Lion never downloads; fetch it once (e.g. \`huggingface-cli download ${nameOrPath}\`) or set HF_HUB_CACHE / HF_HOME to the cache that holds it`,
  });
}
