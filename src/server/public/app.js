// Lion's page logic: plain ES2020 modules, no framework, no build step. It talks only to the JSON API of the
// same origin (/api/...). All text from the server or from files is inserted with textContent, never as
// HTML. Views: Search (an opening view with the systems, the collection and example queries; per-system
// columns + a fused column (RRF or weighted sum, weights editable), query terms, per-hit contribution bars) and
// Evaluate (qrels + one or two runs → per-query table, difference plot sorted by gain, paired tests).

const $ = (id) => document.getElementById(id);

/** Create an element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const fmt = (x, d = 4) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
const fmtP = (p) => (p < 0.0001 ? p.toExponential(2) : p.toFixed(4));

async function api(path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new Error(`cannot reach the server (${e.message})`);
  }
  let data;
  try {
    data = await res.json();
  } catch {
    throw new Error(`the server answered ${res.status} without JSON`);
  }
  if (!res.ok) throw new Error(data?.error?.message ?? `request failed with status ${res.status}`);
  return data;
}

function say(el, text, isError = false) {
  el.textContent = text;
  el.classList.toggle('error', isError);
  el.setAttribute('role', isError ? 'alert' : 'status');
}

// ---------------------------------------------------------------- tabs
const tabs = [$('tab-search'), $('tab-eval')];
function selectTab(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !on;
  }
  tab.focus();
}
for (const t of tabs) {
  t.addEventListener('click', () => selectTab(t));
  t.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const i = tabs.indexOf(t);
      selectTab(tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]);
      e.preventDefault();
    }
  });
}
document.addEventListener('keydown', (e) => {
  const el = document.activeElement;
  const typing = el?.tagName === 'TEXTAREA' || el?.tagName === 'SELECT' || (el?.tagName === 'INPUT' && /^(text|search|number)$/.test(el.type));
  if (e.key === '/' && !typing && !$('doc-dialog').open) {
    selectTab($('tab-search'));
    $('q').focus();
    e.preventDefault();
  }
});

// ---------------------------------------------------------------- start-up
let systems = [];
const KIND_TEXT = { bm25: 'lexical (BM25)', sparse: 'learned sparse', dense: 'dense' };
async function init() {
  try {
    const info = await api('/api/systems');
    systems = info.systems;
    const box = $('systems');
    for (const sys of systems) {
      const cb = h('input', { type: 'checkbox', name: 'system', value: sys.name, checked: sys.accepts.includes('text') ? true : undefined, disabled: sys.accepts.includes('text') ? undefined : true, onchange: renderWeights });
      box.append(h('label', { title: sys.description }, cb, ` ${sys.name}`));
    }
    const docs = Math.max(info.documents, ...systems.map((x) => x.docs));
    say($('status'), `${systems.length} system${systems.length === 1 ? '' : 's'} · ${docs.toLocaleString()} documents`);
    renderWelcome(info, docs);
    renderWeights();
    if (systems.length === 0) say($('search-message'), 'This server has no index loaded; start it with --index <dir>.', true);
  } catch (e) {
    say($('status'), `error: ${e.message}`, true);
  }
}

/** The opening view: what is loaded, and example queries from the collection that run on a click. */
function renderWelcome(info, docs) {
  if (info.collection) $('welcome-collection').textContent = info.collection;
  $('welcome-summary').textContent = `${docs.toLocaleString()} documents · ${systems.length} system${systems.length === 1 ? '' : 's'} loaded${info.reranker ? ' · a cross-encoder for re-ranking' : ''}`;
  $('welcome-systems').replaceChildren(...systems.map((x) => h('div', { class: 'card', 'data-system': x.name },
    h('strong', {}, x.name), h('span', { class: 'kind' }, KIND_TEXT[x.kind] ?? x.kind),
    h('span', { class: 'muted' }, `${x.docs.toLocaleString()} documents${x.dim ? ` · ${x.kind === 'dense' ? 'dim' : 'vocabulary'} ${x.dim.toLocaleString()}` : ''}`),
    h('span', { class: 'desc' }, x.description),
    x.accepts.includes('text') ? null : h('span', { class: 'muted' }, 'vector queries only (no query encoder loaded)'))));
  const ex = info.examples ?? [];
  $('welcome-examples').replaceChildren(...(ex.length ? ex : []).map((q) => h('li', {}, h('button', { type: 'button', class: 'example', onclick: () => { $('q').value = q; $('search-form').requestSubmit(); } }, q))));
  if (!ex.length) $('welcome-examples').append(h('li', { class: 'muted' }, 'Type any query above.'));
}

/** One weight input per ticked system; shown when two or more systems are fused. */
const weightsBySystem = new Map();
function renderWeights() {
  const chosen = [...document.querySelectorAll('input[name="system"]:checked')].map((x) => x.value);
  $('fusion').hidden = chosen.length < 2;
  $('fusion-weights').replaceChildren(...chosen.map((n) => h('label', { class: 'weight' }, `${n} `,
    h('input', { type: 'number', min: 0, step: 0.05, value: weightsBySystem.get(n) ?? 1, 'data-system': n, 'aria-label': `weight of ${n}`,
      onchange: (e) => { weightsBySystem.set(n, Number(e.target.value)); rerun(); } }))));
}
function fusionParams(chosen) {
  return { fusion: $('fusion-method').value, norm: $('fusion-norm').value, weights: chosen.map((n) => weightsBySystem.get(n) ?? 1) };
}
let lastQuery = '';
function rerun() { if (lastQuery && $('q').value.trim() === lastQuery) $('search-form').requestSubmit(); }
$('fusion-method').addEventListener('change', () => { $('fusion-norm').disabled = $('fusion-method').value === 'rrf'; rerun(); });
$('fusion-norm').disabled = true;
$('fusion-norm').addEventListener('change', rerun);

// ---------------------------------------------------------------- search view
function termChips(terms, total) {
  if (!terms || terms.length === 0) return h('p', { class: 'empty' }, 'no query terms survived analysis');
  const sorted = [...terms].sort((a, b) => b.weight - a.weight).slice(0, 40);
  const more = (total ?? terms.length) - sorted.length;
  return h('ul', { class: 'terms', 'aria-label': 'Query terms and weights' },
    sorted.map((t) => h('li', { title: t.id !== undefined ? `token id ${t.id}` : undefined }, t.term, h('span', { class: 'w' }, fmt(t.weight, 2)))),
    more > 0 ? h('li', { class: 'muted' }, `+${more} more`) : null);
}

function contributionBars(terms, scale, other) {
  const box = h('div', { class: 'contrib', role: 'list', 'aria-label': 'Matched terms and their contributions' });
  for (const t of terms.slice(0, 12)) {
    const pct = scale > 0 ? Math.max(1, (100 * t.contribution) / scale) : 0;
    const label = `${t.term}: ${fmt(t.queryWeight, 2)} × ${fmt(t.docWeight, 3)} = ${fmt(t.contribution, 3)}`;
    box.append(
      h('span', { class: 't', role: 'listitem', title: label }, t.term),
      h('span', { class: 'track', 'aria-hidden': 'true' }, h('span', { class: 'fill', style: `display:block;width:${pct.toFixed(1)}%` })),
      h('span', { class: 'v', 'aria-label': label }, fmt(t.contribution, 2)),
    );
  }
  const hidden = terms.length - Math.min(terms.length, 12) + (other ? other.terms : 0);
  if (hidden > 0) {
    const rest = terms.slice(12).reduce((a, t) => a + t.contribution, 0) + (other ? other.contribution : 0);
    box.append(h('span', { class: 't muted', role: 'listitem' }, `+${hidden} more`), h('span'), h('span', { class: 'v' }, fmt(rest, 2)));
  }
  return box;
}

function hitItem(hit, opts) {
  const li = h('li', { tabindex: 0, 'data-docid': hit.docid, 'aria-label': `rank ${hit.rank}: ${hit.title || hit.docid}` },
    h('div', { class: 'hit-head' }, h('span', { class: 'rank' }, `${hit.rank}.`), h('span', { class: 'title' }, hit.title || `(document ${hit.docid})`)),
    h('div', { class: 'meta' }, `doc ${hit.docid} · score ${fmt(hit.score, opts.fused ? 5 : 3)}`),
    hit.snippet ? h('p', { class: 'snippet' }, hit.snippet) : null,
    opts.fused ? h('div', { class: 'ranks' }, opts.names.map((n, i) => `${n}: ${hit.ranks[i] ?? '–'}`).join(' · ')) : null,
    hit.contributions && hit.contributions.length ? contributionBars(hit.contributions, opts.scale, hit.otherContributions) : null,
  );
  const open = () => showDoc(hit.docid);
  li.addEventListener('click', open);
  li.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { open(); e.preventDefault(); }
    if (e.key === 'ArrowDown') { li.nextElementSibling?.focus(); e.preventDefault(); }
    if (e.key === 'ArrowUp') { li.previousElementSibling?.focus(); e.preventDefault(); }
  });
  return li;
}

function column(title, kind, took, terms, hits, opts) {
  const col = h('section', { class: `column${opts.fused ? ' fused' : ''}`, 'aria-label': `${title} results`, 'data-system': title },
    h('h2', {}, title, h('span', { class: 'kind' }, kind), took !== undefined ? h('span', { class: 'took' }, `${fmt(took, 1)} ms`) : null));
  if (terms) col.append(termChips(terms, opts.termsTotal));
  if (hits.length === 0) col.append(h('p', { class: 'empty' }, 'No document matched this query.'));
  else col.append(h('ol', { class: 'hits' }, hits.map((x) => hitItem(x, opts))));
  return col;
}

async function runSearch(e) {
  e.preventDefault();
  const q = $('q').value.trim();
  const out = $('results');
  if (!q) { say($('search-message'), 'Type a query first.', true); return; }
  const chosen = [...document.querySelectorAll('input[name="system"]:checked')].map((x) => x.value);
  if (chosen.length === 0) { say($('search-message'), 'Tick at least one system.', true); return; }
  say($('search-message'), 'Searching…');
  try {
    const r = await api('/api/search', { q, k: Number($('k').value), systems: chosen, explain: true, ...(chosen.length >= 2 ? fusionParams(chosen) : {}) });
    lastQuery = q;
    $('welcome').hidden = true;
    out.replaceChildren();
    for (const res of r.results) {
      const scale = Math.max(0, ...res.hits.flatMap((x) => (x.contributions ?? []).map((c) => c.contribution)));
      out.append(column(res.system, res.kind, res.took_ms, res.terms, res.hits, { scale, termsTotal: res.termsTotal }));
    }
    if (r.fused) {
      const how = r.fused.method === 'rrf' ? `RRF, c = ${r.fused.c}` : `weighted sum, ${r.fused.norm === 'zscore' ? 'z-score' : r.fused.norm === 'minmax' ? 'min-max' : 'raw scores'}`;
      const col = column('fused', how, undefined, undefined, r.fused.hits, { fused: true, names: r.fused.systems });
      col.querySelector('h2').after(h('p', { class: 'weights-shown', 'aria-label': 'Fusion weights' },
        'weights ', r.fused.systems.map((n, i) => `${n} ${fmt(r.fused.weights[i], 2)}`).join(' · '), ' (edit them above)'));
      out.append(col);
    }
    const n = r.results.reduce((a, x) => a + x.hits.length, 0);
    say($('search-message'), n === 0
      ? `No results for “${q}”: none of its terms occurs in the collection. Try other words.`
      : `${r.results.length} system${r.results.length === 1 ? '' : 's'}, top ${r.k}, ${fmt(r.took_ms, 1)} ms. Enter on a result opens it; ↑/↓ move.`);
  } catch (err) {
    out.replaceChildren();
    say($('search-message'), `Search failed: ${err.message}`, true);
  }
}

async function showDoc(docid) {
  const dlg = $('doc-dialog');
  $('doc-title').textContent = `Document ${docid}`;
  $('doc-id').textContent = '';
  $('doc-text').textContent = 'Loading…';
  dlg.showModal();
  try {
    const d = await api(`/api/doc/${encodeURIComponent(docid)}`);
    $('doc-title').textContent = d.title || `Document ${docid}`;
    $('doc-id').textContent = `id ${d.id}`;
    $('doc-text').textContent = d.text || '(this document has no text)';
  } catch (err) {
    $('doc-text').textContent = `Could not load the document: ${err.message}`;
  }
}

// ---------------------------------------------------------------- evaluation view
async function fileSpec(fileInput, pathInput, label, required) {
  const f = fileInput.files?.[0];
  const p = pathInput.value.trim();
  if (f && p) throw new Error(`${label}: give an upload or a server path, not both`);
  if (f) return { name: f.name, text: await f.text() };
  if (p) return { name: p.split('/').pop(), path: p };
  if (required) throw new Error(`${label}: choose a file to upload or type a server path`);
  return undefined;
}

function diffPlot(cmp) {
  const d = cmp.diffs;
  const W = 640, H = 240, padL = 44, padR = 8, padT = 10, padB = 26;
  const maxAbs = Math.max(1e-9, ...d.map((x) => Math.abs(x.diff)));
  const y = (v) => padT + ((maxAbs - v) / (2 * maxAbs)) * (H - padT - padB);
  const bw = (W - padL - padR) / Math.max(1, d.length);
  const svg = s('svg', { class: 'plot', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Per-query difference ${cmp.direction}, sorted by gain; mean ${fmt(cmp.ttest.meanDiff)}` });
  d.forEach((x, i) => {
    const y0 = y(0), y1 = y(x.diff);
    const r = s('rect', { x: padL + i * bw, y: Math.min(y0, y1), width: Math.max(bw - (bw > 3 ? 1 : 0), 0.5), height: Math.max(Math.abs(y1 - y0), x.diff === 0 ? 0 : 0.5), class: x.diff >= 0 ? 'bar-pos' : 'bar-neg' });
    r.append(s('title', {}, `query ${x.qid}: ${x.diff >= 0 ? '+' : ''}${fmt(x.diff)}`));
    svg.append(r);
  });
  svg.append(s('line', { x1: padL, x2: W - padR, y1: y(0), y2: y(0), class: 'axis' }));
  svg.append(s('line', { x1: padL, x2: W - padR, y1: y(cmp.ttest.meanDiff), y2: y(cmp.ttest.meanDiff), class: 'mean' }));
  svg.append(s('text', { x: padL - 4, y: y(maxAbs) + 4, 'text-anchor': 'end' }, `+${fmt(maxAbs, 2)}`));
  svg.append(s('text', { x: padL - 4, y: y(0) + 4, 'text-anchor': 'end' }, '0'));
  svg.append(s('text', { x: padL - 4, y: y(-maxAbs) + 4, 'text-anchor': 'end' }, `−${fmt(maxAbs, 2)}`));
  svg.append(s('text', { x: padL, y: H - 6 }, `${d.length} queries, sorted by gain of ${cmp.direction} (dashed: mean)`));
  return svg;
}

function valuePlot(rows) {
  const vals = rows.map((r) => r.values[0] ?? 0).sort((a, b) => b - a);
  const W = 640, H = 200, padL = 36, padB = 22, padT = 8;
  const max = Math.max(1e-9, ...vals);
  const bw = (W - padL - 8) / Math.max(1, vals.length);
  const svg = s('svg', { class: 'plot', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Per-query metric, sorted' });
  vals.forEach((v, i) => {
    const hgt = (v / max) * (H - padT - padB);
    svg.append(s('rect', { x: padL + i * bw, y: H - padB - hgt, width: Math.max(bw - (bw > 3 ? 1 : 0), 0.5), height: hgt, class: 'bar-val' }));
  });
  svg.append(s('line', { x1: padL, x2: W - 8, y1: H - padB, y2: H - padB, class: 'axis' }));
  svg.append(s('text', { x: padL - 4, y: padT + 8, 'text-anchor': 'end' }, fmt(max, 2)));
  svg.append(s('text', { x: padL, y: H - 5 }, `${vals.length} queries, sorted by value`));
  return svg;
}

function renderEval(r) {
  const two = r.runs.length === 2;
  const names = r.runs.map((x) => x.name);
  const head = h('tr', {}, h('th', {}, 'query'), names.map((n) => h('th', {}, n)), two ? h('th', {}, 'B − A') : null);
  const rows = r.perQuery.map((q) => {
    const diff = two ? (q.values[1] ?? 0) - (q.values[0] ?? 0) : null;
    return h('tr', {}, h('td', {}, q.qid), q.values.map((v) => h('td', {}, fmt(v))),
      two ? h('td', { class: diff > 0 ? 'pos' : diff < 0 ? 'neg' : '' }, `${diff > 0 ? '+' : ''}${fmt(diff)}`) : null);
  });
  const means = h('tr', {}, h('th', {}, 'mean'), r.runs.map((x) => h('th', {}, fmt(x.mean))), two ? h('th', {}, fmt(r.runs[1].mean - r.runs[0].mean)) : null);
  const table = h('div', { class: 'scroll', tabindex: 0, 'aria-label': 'Per-query values' }, h('table', {}, h('thead', {}, head, means), h('tbody', {}, rows)));
  const left = h('div', { class: 'panel' }, h('h2', {}, two ? `Per-query difference (${r.measure})` : `Per-query ${r.measure}`),
    two ? diffPlot(r.comparison) : valuePlot(r.perQuery), table);
  let right;
  if (two) {
    const c = r.comparison;
    right = h('div', { class: 'panel', 'aria-label': 'Significance' }, h('h2', {}, 'Paired comparison'),
      h('dl', { class: 'stats' },
        h('dt', {}, `mean ${r.measure}`), h('dd', {}, `${names[0]} ${fmt(r.runs[0].mean)} · ${names[1]} ${fmt(r.runs[1].mean)}`),
        h('dt', {}, `mean difference (${c.direction})`), h('dd', { id: 'mean-diff', class: c.ttest.meanDiff > 0 ? 'pos' : c.ttest.meanDiff < 0 ? 'neg' : '' }, `${c.ttest.meanDiff > 0 ? '+' : ''}${fmt(c.ttest.meanDiff)}`),
        h('dt', {}, 'wins / losses / ties'), h('dd', {}, `${c.wins} / ${c.losses} / ${c.ties} of ${c.queries}`),
        h('dt', {}, 'paired t-test (two-sided)'), h('dd', { id: 'ttest' }, `t = ${fmt(c.ttest.t, 3)}, df = ${c.ttest.df}, p = ${fmtP(c.ttest.p)}`),
        h('dt', {}, 'randomisation test (two-sided)'), h('dd', { id: 'randomisation' }, `p = ${fmtP(c.randomisation.p)} (${c.randomisation.trials.toLocaleString()} trials, seed ${c.randomisation.seed})`),
      ));
  } else {
    right = h('div', { class: 'panel' }, h('h2', {}, 'Summary'), h('dl', { class: 'stats' },
      h('dt', {}, `mean ${r.measure}`), h('dd', { id: 'mean-value' }, fmt(r.runs[0].mean)),
      h('dt', {}, 'queries evaluated'), h('dd', {}, `${r.runs[0].queries} (qrels: ${r.qrels.queries})`)),
      h('p', { class: 'muted' }, 'Add run B to see the per-query difference and paired tests.'));
  }
  $('eval-output').replaceChildren(h('div', { class: 'eval-grid' }, left, right));
}

async function runEval(e) {
  e.preventDefault();
  const msg = $('eval-message');
  try {
    const qrels = await fileSpec($('qrels-file'), $('qrels-path'), 'Qrels', true);
    const a = await fileSpec($('runa-file'), $('runa-path'), 'Run A', true);
    const b = await fileSpec($('runb-file'), $('runb-path'), 'Run B', false);
    say(msg, 'Evaluating…');
    const r = await api('/api/evaluate', { qrels, runs: b ? [a, b] : [a], measure: $('measure').value });
    if (r.perQuery.length === 0) {
      $('eval-output').replaceChildren();
      say(msg, 'No query of the run has judgements in the qrels: check that the query ids match.', true);
      return;
    }
    renderEval(r);
    say(msg, `${r.perQuery.length} queries evaluated with ${r.measure}.`);
  } catch (err) {
    $('eval-output').replaceChildren();
    say(msg, `Evaluation failed: ${err.message}`, true);
  }
}

$('search-form').addEventListener('submit', runSearch);
$('eval-form').addEventListener('submit', runEval);
init();
