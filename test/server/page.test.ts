// End to end: the page in a real headless Chromium (Debian's, driven by playwright-core) against a real server
// with two BM25 systems over Cranfield. Types a query, checks results, query terms and contribution bars,
// opens a document by keyboard, then loads two runs in the evaluation view. Screenshots go to test-artifacts/
// (and to docs/img/lion-serve.png when LION_DOCS_SCREENSHOT=1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBm25Index } from '../../src/bm25/format.js';
import { createLionServer, type LionServer } from '../../src/server/app.js';
import { bm25System, loadDocStore, openSystems } from '../../src/server/systems.js';
import { repoRoot, tempDir } from '../helpers.js';
import { cranfield, cranfieldIndex, cranfieldRun, cranQrels, neuralFixture } from './fixture.js';

const browserPath = [process.env.LION_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const skip = browserPath ? false : 'no Chromium found (apt-get install chromium, or set LION_CHROMIUM)';
const artifacts = join(repoRoot, 'test-artifacts');

let srv: LionServer;
let runA: string;
let runB: string;

before(async () => {
  if (skip) return;
  const { dir, index } = await cranfieldIndex();
  const ix = await readBm25Index(index);
  runA = await cranfieldRun(dir, 'bm25-b0.4', 0.4);
  runB = await cranfieldRun(dir, 'bm25-b0.75', 0.75);
  const nf = await neuralFixture();
  const neural = await openSystems([`sparse-tiny=${nf.sparseIndex}`], { models: { 'sparse-tiny': nf.model } });
  srv = await createLionServer({
    systems: [bm25System('bm25', ix), bm25System('bm25-b0.75', ix, { b: 0.75 }), ...neural],
    docs: await loadDocStore([cranfield]),
    port: 0,
    fileRoots: [dir, cranfield],
    log: () => {},
  });
});
after(async () => srv?.close());

test('search, explain and evaluate in a real browser', { skip, timeout: 90_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const ctx = await chromium.launchPersistentContext(tempDir('lion-chromium-'), {
    executablePath: browserPath!,
    headless: true,
    viewport: { width: 1366, height: 860 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}/`);
    await page.getByText('3 systems · 1,400 documents').waitFor();
    // The screenshot for the README shows the two BM25 systems; the tiny random sparse model is checked below.
    await page.locator('input[name="system"][value="sparse-tiny"]').uncheck();

    // Keyboard only: "/" focuses the box, Enter searches.
    await page.keyboard.press('/');
    await page.keyboard.type('heat transfer in a laminar boundary layer');
    await page.keyboard.press('Enter');
    const col = page.locator('section.column[data-system="bm25"]');
    await col.locator('ol.hits > li').nth(9).waitFor();
    assert.equal(await col.locator('ol.hits > li').count(), 10);
    assert.equal(await page.locator('section.column').count(), 3, 'two systems and the fused list');
    assert.equal(await page.locator('section.column.fused ol.hits > li').count(), 10);

    // The page shows what the API returns, with the query terms and per-term contribution bars.
    const api: any = await (await fetch(`${srv.url}/api/search?q=${encodeURIComponent('heat transfer in a laminar boundary layer')}&k=10&systems=bm25&explain=true`)).json();
    const top = api.results[0].hits[0];
    assert.equal(await col.locator('ol.hits > li').first().getAttribute('data-docid'), top.docid);
    const chips = await col.locator('ul.terms li').allTextContents();
    for (const t of ['heat', 'laminar', 'boundari']) assert.ok(chips.some((c) => c.startsWith(t)), `term chip ${t} in ${chips}`);
    const bars = col.locator('ol.hits > li').first().locator('.contrib .t');
    assert.deepEqual(await bars.allTextContents(), top.contributions.map((c: any) => c.term));
    const widths = await col.locator('ol.hits > li').first().locator('.contrib .fill').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    assert.ok(widths[0]! > 0 && widths.every((w, i) => i === 0 || w <= widths[i - 1]! + 0.5), `bars sorted by contribution: ${widths}`);

    // Open the first document with the keyboard; Escape closes it.
    await col.locator('ol.hits > li').first().focus();
    await page.keyboard.press('Enter');
    await page.locator('#doc-dialog[open] #doc-id').getByText(`id ${top.docid}`).waitFor();
    await page.keyboard.press('Escape');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'serve-search.png') });
    if (process.env.LION_DOCS_SCREENSHOT === '1') copyFileSync(join(artifacts, 'serve-search.png'), join(repoRoot, 'docs', 'img', 'lion-serve.png'));

    // A learned sparse column: decoded expansion tokens with weights, and contribution bars per hit.
    await page.locator('input[name="system"][value="sparse-tiny"]').check();
    await page.locator('#search-form button[type="submit"]').click();
    const spCol = page.locator('section.column[data-system="sparse-tiny"]');
    await spCol.locator('ol.hits > li').first().waitFor();
    const spApi: any = await (await fetch(`${srv.url}/api/search?q=${encodeURIComponent('heat transfer in a laminar boundary layer')}&k=10&systems=sparse-tiny&explain=true`)).json();
    const sp = spApi.results[0];
    assert.equal(await spCol.locator('ol.hits > li').first().getAttribute('data-docid'), sp.hits[0].docid);
    assert.equal(await spCol.locator('ul.terms li').count(), sp.terms.length + ((sp.termsTotal ?? 0) > sp.terms.length ? 1 : 0));
    assert.equal(await spCol.locator('ul.terms li').first().getAttribute('title'), `token id ${sp.terms[0].id}`);
    assert.ok(await spCol.locator('ol.hits > li').first().locator('.contrib .fill').count() > 0);

    // An empty result says so (BM25 only: a random sparse model matches anything).
    await page.locator('input[name="system"][value="sparse-tiny"]').uncheck();
    await page.fill('#q', 'zzzqqqxxy');
    await page.keyboard.press('Enter');
    await page.getByText('No results for “zzzqqqxxy”').waitFor();

    // Evaluation view: qrels and run A uploaded in the browser, run B by server path.
    await page.locator('#tab-search').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#view-eval').isVisible(), true);
    await page.locator('#qrels-file').setInputFiles(cranQrels);
    await page.locator('#runa-file').setInputFiles(runA);
    await page.fill('#runb-path', runB);
    await page.locator('#eval-form button[type="submit"]').click();
    await page.locator('#ttest').waitFor();
    const ev: any = await (await fetch(`${srv.url}/api/evaluate`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qrels: { path: cranQrels }, runs: [{ path: runA }, { path: runB }], measure: 'ndcg_cut.10' }),
    })).json();
    assert.ok(ev.perQuery.length > 200);
    assert.equal(await page.locator('svg.plot rect').count(), ev.comparison.queries);
    const sign = ev.comparison.ttest.meanDiff > 0 ? '+' : '';
    assert.equal(await page.locator('#mean-diff').textContent(), `${sign}${ev.comparison.ttest.meanDiff.toFixed(4)}`);
    assert.match((await page.locator('#ttest').textContent())!, /^t = -?\d+\.\d{3}, df = \d+, p = /);
    assert.match((await page.locator('#randomisation').textContent())!, /10,000 trials, seed 42/);
    await page.screenshot({ path: join(artifacts, 'serve-eval.png'), fullPage: true });

    // A bad run file is a clear message, not a broken page.
    await page.fill('#runb-path', '/etc/hostname');
    await page.locator('#eval-form button[type="submit"]').click();
    await page.getByText(/Evaluation failed: .*outside the folders/).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
