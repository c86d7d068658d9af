import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AddonUnavailable, addonPaths, loadAddon } from '../../src/util/addon.js';

test('an addon that is not built is AddonUnavailable naming where it looked', () => {
  assert.throws(() => loadAddon('lion_no_such_addon', []), (e: unknown) =>
    e instanceof AddonUnavailable && /not built/.test(e.message) && e.message.includes('lion_no_such_addon.node'));
});

test('an override path comes first; both addons resolve under the package root', () => {
  const paths = addonPaths('lion_search', '/nowhere/x.node');
  assert.equal(paths[0], '/nowhere/x.node');
  assert.match(paths[1]!, /build[\\/]Release[\\/]lion_search\.node$/);
});

test('an addon lacking a function this version calls is out of date', (t) => {
  const [p] = addonPaths('lion_search');
  if (!p || !existsSync(p)) return t.skip('lion_search.node is not built');
  assert.throws(() => loadAddon('lion_search', ['sparseExact', 'noSuchKernel']), (e: unknown) =>
    e instanceof AddonUnavailable && /out of date \(lacks noSuchKernel\)/.test(e.message));
  const { addon } = loadAddon<{ sparseExact: unknown }>('lion_search', ['sparseExact']);
  assert.equal(typeof addon.sparseExact, 'function');
});
