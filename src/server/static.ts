/**
 * The page's static files (src/server/public/: index.html, app.js, style.css), served from memory. The set
 * is read once at start-up into a map keyed by URL path, so a request can only ever name a file in that
 * map: no request path reaches the file system, and traversal (`..`, encoded or not, backslashes, NUL) is
 * refused with 400 before lookup. Unknown paths are 404.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { publicDir } from '../assets.js';
import { HttpError } from './http.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface StaticFile {
  body: Buffer;
  type: string;
}

/** Load every file under `dir` (one level of sub-folders at most) into memory, keyed by URL path. */
export function loadStatic(dir = publicDir()): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (d: string, prefix: string, depth: number) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (depth < 1) walk(p, `${prefix}${name}/`, depth + 1);
      } else if (TYPES[extname(name)]) {
        files.set(`/${prefix}${name}`, { body: readFileSync(p), type: TYPES[extname(name)]! });
      }
    }
  };
  walk(dir, '', 0);
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

/** Resolve a request path to a static file, refusing traversal attempts with 400 and unknown paths with 404. */
export function lookupStatic(files: Map<string, StaticFile>, rawPath: string): StaticFile {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new HttpError(400, 'E_BAD_PATH', 'the request path is not valid percent-encoding');
  }
  if (path.includes('\0') || path.includes('\\') || path.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw new HttpError(400, 'E_BAD_PATH', 'the request path may not contain "..", "." segments, backslashes or NUL');
  }
  const f = files.get(path);
  if (!f) throw new HttpError(404, 'E_NOT_FOUND', `no such page or file: ${path.slice(0, 200)}`);
  return f;
}
