/**
 * The local Hugging Face cache: where it is (HF_HUB_CACHE > HF_HOME/hub > XDG > ~/.cache), refs/<branch> →
 * snapshots/<hash>, commit revisions, an adapter whose base_model_name_or_path is a cached hub id, and the error
 * that says where Lion looked and that it never downloads. The cache is laid out by hand in a temp folder.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import { loadAdapterModel, loadModel, resolveAdapterBase } from '../../src/model/checkpoint.js';
import { findCachedSnapshot, hubCacheDir, resolveModelDir } from '../../src/util/hfcache.js';
import { fixtures, tempDir } from '../helpers.js';

/** A fake cache holding the golden llama as `meta-llama/Llama-tiny` at two commits, main → the second. */
function fakeCache(): string {
  const hub = tempDir('lion-hub-');
  const repo = join(hub, 'models--meta-llama--Llama-tiny');
  for (const hash of ['1111111aaaa', '2222222bbbb']) cpSync(join(fixtures, 'golden', 'llama'), join(repo, 'snapshots', hash), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), '2222222bbbb');
  return hub;
}

test('cache location: HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME, else ~/.cache', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' }), '/a');
  assert.equal(hubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/x' }), join('/b', 'hub'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), join('/x', 'huggingface', 'hub'));
  assert.match(hubCacheDir({}), /\.cache[\\/]huggingface[\\/]hub$/);
});

test('a hub id resolves through refs/main; a revision picks a branch or a commit', () => {
  const hub = fakeCache();
  const env = { HF_HUB_CACHE: hub };
  const repo = join(hub, 'models--meta-llama--Llama-tiny');
  assert.equal(resolveModelDir('meta-llama/Llama-tiny', { env }), join(repo, 'snapshots', '2222222bbbb'));
  assert.equal(resolveModelDir('meta-llama/Llama-tiny', { env, revision: '1111111aaaa' }), join(repo, 'snapshots', '1111111aaaa'));
  assert.equal(resolveModelDir('meta-llama/Llama-tiny', { env, revision: '1111111' }), join(repo, 'snapshots', '1111111aaaa'));
  assert.equal(findCachedSnapshot('meta-llama/Other', { env }).dir, null);
  // a local folder wins over the cache
  assert.equal(resolveModelDir(join(fixtures, 'golden', 'llama'), { env }), join(fixtures, 'golden', 'llama'));
});

test('a missing model says where Lion looked and that it never downloads', () => {
  const hub = fakeCache();
  assert.throws(() => resolveModelDir('meta-llama/Llama-3.2-1B', { env: { HF_HUB_CACHE: hub } }), (e) => {
    assert.ok(isLionError(e) && e.code === 'E_NOT_FOUND');
    assert.match(e.message, /models--meta-llama--Llama-3\.2-1B[\\/]refs[\\/]main/);
    assert.match(e.hint, /never downloads/);
    return true;
  });
  assert.throws(() => resolveModelDir('meta-llama/Llama-tiny', { env: { HF_HUB_CACHE: hub }, revision: 'nope' }), /at revision nope/);
});

test('loadModel and an adapter\'s base_model_name_or_path accept a cached hub id (process env)', () => {
  const hub = fakeCache();
  const saved = process.env['HF_HUB_CACHE'];
  process.env['HF_HUB_CACHE'] = hub;
  try {
    const a = loadModel('meta-llama/Llama-tiny');
    const b = loadModel(join(fixtures, 'golden', 'llama'));
    assert.deepEqual(a.param('model.embed_tokens.weight'), b.param('model.embed_tokens.weight'));
    // an adapter (here the .bin one) naming the hub id loads with no edits
    const ad = tempDir();
    cpSync(join(fixtures, 'torchbin', 'adapter'), ad, { recursive: true });
    const cfg = join(ad, 'adapter_config.json');
    const raw = JSON.parse(readFileSync(cfg, 'utf8')) as Record<string, unknown>;
    raw.base_model_name_or_path = 'meta-llama/Llama-tiny';
    writeFileSync(cfg, JSON.stringify(raw));
    assert.equal(resolveAdapterBase(ad), join(hub, 'models--meta-llama--Llama-tiny', 'snapshots', '2222222bbbb'));
    const m = loadAdapterModel(ad);
    assert.equal(m.merged, true);
    // a relative local path still resolves against the adapter folder
    raw.base_model_name_or_path = '../base';
    cpSync(join(fixtures, 'golden', 'llama'), join(ad, '..', 'base'), { recursive: true });
    writeFileSync(cfg, JSON.stringify(raw));
    assert.equal(resolveAdapterBase(ad), join(ad, '..', 'base'));
  } finally {
    if (saved === undefined) delete process.env['HF_HUB_CACHE'];
    else process.env['HF_HUB_CACHE'] = saved;
  }
});
