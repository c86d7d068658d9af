/**
 * The one loader of Lion's native addons (`build/Release/<name>.node`, built by node-gyp from native/ during
 * `npm install`): finds the file under the package root, loads it and checks it exports what this version of
 * Lion calls. The kernels (src/kernels/native.ts) and the search loops (src/index/native.ts) both load through
 * here; each decides what a missing addon means (kernels warn and fall back to `ref`, search falls back to
 * its TypeScript twins silently).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An addon that is not built, or built from older sources (lacks functions this version calls). */
export class AddonUnavailable extends Error {
  override name = 'AddonUnavailable';
}

/** Where `<name>.node` is looked for: `override` when given, then build/Release under the package root. */
export function addonPaths(name: string, override?: string): string[] {
  const out: string[] = [];
  if (override) out.push(resolve(override));
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/src/util or src/util up to the folder holding binding.gyp (the package root).
  for (let d = here, i = 0; i < 5; i++, d = dirname(d)) {
    if (existsSync(join(d, 'binding.gyp'))) {
      out.push(join(d, 'build', 'Release', `${name}.node`));
      break;
    }
  }
  return out;
}

/**
 * Loads the addon `name`. Throws `AddonUnavailable` when no file exists or the file lacks one of `required`;
 * an error raised while loading (a wrong platform, an addon refusing the CPU) propagates unchanged.
 */
export function loadAddon<T>(name: string, required: readonly string[], override?: string): { addon: T; path: string } {
  const paths = addonPaths(name, override);
  const path = paths.find((p) => existsSync(p));
  if (!path) throw new AddonUnavailable(`the addon is not built (looked for ${paths.join(', ') || `build/Release/${name}.node`})`);
  const addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
  const missing = required.filter((k) => typeof addon[k] !== 'function');
  if (missing.length > 0) throw new AddonUnavailable(`${path} is out of date (lacks ${missing.join(', ')}); rebuild it`);
  return { addon: addon as T, path };
}
