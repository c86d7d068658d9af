// The page's opening view and weighted fusion in a real headless Chromium: loaded systems, the collection and
// example queries from it; an example runs on a click; the fused column's method, normalisation and weights
// are editable and shown, and the fused list is what the API's weighted sum gives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readBm25Index } from '../../src/bm25/format.js';
import { createLionServer, type LionServer } from '../../src/server/app.js';
import { exampleQueries } from '../../src/server/serve.js';
import { bm25System, loadDocStore } from '../../src/server/systems.js';
import { repoRoot, tempDir } from '../helpers.js';
import { cranfield, cranfieldIndex } from './fixture.js';

const browserPath = [process.env.LION_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const skip = browserPath ? false : 'no Chromium found (apt-get install chromium, or set LION_CHROMIUM)';
const artifacts = join(repoRoot, 'test-artifacts');
let srv: LionServer;
let examples: string[];

before(async () => {
  if (skip) return;
  const ix = await readBm25Index((await cranfieldIndex()).index);
  examples = await exampleQueries([cranfield]);
  srv = await createLionServer({
    systems: [bm25System('bm25', ix), bm25System('bm25-b0.75', ix, { b: 0.75 })],
    docs: await loadDocStore([cranfield]), port: 0, log: () => {}, examples, collectionName: 'cranfield',
  });
});
after(async () => srv?.close());

test('example queries are taken from the collection', { skip }, () => {
  assert.equal(examples.length, 5);
  for (const e of examples) assert.ok(e.length >= 12 && e.length <= 90);
});

test('opening view, example queries and editable fusion weights in a real browser', { skip, timeout: 90_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const ctx = await chromium.launchPersistentContext(tempDir('lion-chromium-'), {
    executablePath: browserPath!, headless: true, viewport: { width: 1366, height: 860 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}/`);
    await page.locator('#welcome-systems .card').nth(1).waitFor();
    assert.equal(await page.locator('#welcome-collection').textContent(), 'cranfield');
    assert.match((await page.locator('#welcome-summary').textContent())!, /1,400 documents · 2 systems loaded/);
    assert.deepEqual(await page.locator('#welcome-examples button').allTextContents(), examples);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'serve-welcome.png') });

    // A click on an example searches it and replaces the opening view with results.
    await page.locator('#welcome-examples button').first().click();
    await page.locator('section.column.fused ol.hits > li').nth(9).waitFor();
    assert.equal(await page.locator('#welcome').isVisible(), false);
    assert.equal(await page.locator('#q').inputValue(), examples[0]);
    assert.match((await page.locator('section.column.fused .weights-shown').textContent())!, /bm25 1\.00 · bm25-b0\.75 1\.00/);

    // Weighted z-score sum with bm25's weight 0: the fused list is bm25-b0.75's list.
    await page.selectOption('#fusion-method', 'sum');
    await page.locator('section.column.fused h2 .kind').getByText('weighted sum, z-score').waitFor();
    await page.fill('input[data-system="bm25"]', '0');
    await page.locator('input[data-system="bm25"]').dispatchEvent('change');
    await page.locator('section.column.fused .weights-shown').getByText(/bm25 0\.00/).waitFor();
    const fused = await page.locator('section.column.fused ol.hits > li').evaluateAll((els) => els.map((e) => e.getAttribute('data-docid')));
    const other = await page.locator('section.column[data-system="bm25-b0.75"] ol.hits > li').evaluateAll((els) => els.map((e) => e.getAttribute('data-docid')));
    assert.deepEqual(fused, other);
    const api: any = await (await fetch(`${srv.url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ q: examples[0], k: 10, fusion: 'sum', norm: 'zscore', weights: [0, 1] }) })).json();
    assert.deepEqual(api.fused.hits.map((h: any) => h.docid), fused);
    assert.deepEqual(api.fused.weights, [0, 1]);
    await page.screenshot({ path: join(artifacts, 'serve-fusion.png') });
    const bad = await fetch(`${srv.url}/api/search?q=wing&weights=1,x`);
    assert.equal(bad.status, 400);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
