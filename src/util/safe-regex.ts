/**
 * A regular-expression matcher that cannot backtrack: patterns are compiled to a Thompson NFA and run by
 * simulating all states at once, so matching costs O(pattern x input) whatever the pattern — `(.*.*)*X`
 * included. Used where a pattern comes from a file (peft's `target_modules`) and must not hang the process.
 *
 * Syntax (the part of Python's `re` that such patterns use): literals, `.`, character classes `[a-z_]` and
 * `[^…]`, escapes `\. \d \w \s \D \W \S`, groups `( )` and `(?: )`, alternation `|`, quantifiers `* + ?`
 * and `{m}` `{m,}` `{m,n}` (lazy `?` suffixes accepted; they do not change a yes/no match), and `^` / `$`.
 * Anything else — back-references, look-around, named groups, flags — is a `SyntaxError`-like `Error`
 * naming the position. `fullMatch` answers Python's `re.fullmatch`.
 */

type Pred = (c: string) => boolean;
type Node =
  | { t: 'char'; p: Pred }
  | { t: 'bol' } | { t: 'eol' }
  | { t: 'cat'; xs: Node[] }
  | { t: 'alt'; xs: Node[] }
  | { t: 'rep'; x: Node; min: number; max: number }; // max = Infinity for unbounded

const MAX_PATTERN = 2000;
const MAX_STATES = 20000;

export class PatternError extends Error {}

function classEscape(ch: string): Pred | undefined {
  switch (ch) {
    case 'd': return (c) => c >= '0' && c <= '9';
    case 'D': return (c) => !(c >= '0' && c <= '9');
    case 'w': return (c) => /[A-Za-z0-9_]/.test(c);
    case 'W': return (c) => !/[A-Za-z0-9_]/.test(c);
    case 's': return (c) => /\s/.test(c);
    case 'S': return (c) => !/\s/.test(c);
    default: return undefined;
  }
}

function parse(src: string): Node {
  if (src.length > MAX_PATTERN) throw new PatternError(`pattern is ${src.length} characters long (limit ${MAX_PATTERN})`);
  let i = 0;
  const fail = (m: string): never => { throw new PatternError(`${m} at position ${i} of ${JSON.stringify(src)}`); };
  const literalEscape = (ch: string): string => {
    if (/[A-Za-z0-9]/.test(ch)) {
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v' };
      if (map[ch]) return map[ch]!;
      fail(`unsupported escape \\${ch}`);
    }
    return ch;
  };
  const alt = (): Node => {
    const xs = [cat()];
    while (src[i] === '|') { i++; xs.push(cat()); }
    return xs.length === 1 ? xs[0]! : { t: 'alt', xs };
  };
  const cat = (): Node => {
    const xs: Node[] = [];
    while (i < src.length && src[i] !== '|' && src[i] !== ')') xs.push(repeat());
    return { t: 'cat', xs };
  };
  const repeat = (): Node => {
    let x = atom();
    for (;;) {
      const ch = src[i];
      let min: number, max: number;
      if (ch === '*') { min = 0; max = Infinity; i++; }
      else if (ch === '+') { min = 1; max = Infinity; i++; }
      else if (ch === '?') { min = 0; max = 1; i++; }
      else if (ch === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(i))) {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i))!;
        min = Number(m[1]); max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > 1000 || (max !== Infinity && (max > 1000 || max < min))) fail('bad or too large repetition count');
        i += m[0].length;
      } else return x;
      if (src[i] === '?') i++; // lazy: same yes/no answer
      if (x.t === 'bol' || x.t === 'eol') fail('nothing to repeat');
      x = { t: 'rep', x, min, max };
    }
  };
  const atom = (): Node => {
    const ch = src[i]!;
    if (ch === '(') {
      i++;
      if (src[i] === '?') {
        if (src[i + 1] === ':') i += 2;
        else fail('unsupported group construct (only (?: ) is allowed)');
      }
      const x = alt();
      if (src[i] !== ')') fail('missing )');
      i++;
      return x;
    }
    if (ch === '[') {
      i++;
      let neg = false;
      if (src[i] === '^') { neg = true; i++; }
      const parts: Pred[] = [];
      let first = true;
      while (i < src.length && (src[i] !== ']' || first)) {
        first = false;
        let c = src[i++]!;
        if (c === '\\') {
          const e = src[i++];
          if (e === undefined) fail('pattern ends inside an escape');
          const cls = classEscape(e!);
          if (cls) { parts.push(cls); continue; }
          c = literalEscape(e!);
        }
        if (src[i] === '-' && src[i + 1] !== undefined && src[i + 1] !== ']') {
          i++;
          let hi = src[i++]!;
          if (hi === '\\') hi = literalEscape(src[i++] ?? fail('pattern ends inside an escape'));
          if (hi < c) fail('bad character range');
          const lo = c;
          parts.push((x) => x >= lo && x <= hi);
        } else { const lit = c; parts.push((x) => x === lit); }
      }
      if (src[i] !== ']') fail('missing ]');
      i++;
      return { t: 'char', p: neg ? (x) => !parts.some((p) => p(x)) : (x) => parts.some((p) => p(x)) };
    }
    if (ch === ')' ) fail('unbalanced )');
    if (ch === '*' || ch === '+' || ch === '?' || ch === '{') fail('nothing to repeat');
    i++;
    if (ch === '.') return { t: 'char', p: (c) => c !== '\n' };
    if (ch === '^') return { t: 'bol' };
    if (ch === '$') return { t: 'eol' };
    if (ch === '\\') {
      const e = src[i++];
      if (e === undefined) fail('pattern ends inside an escape');
      const cls = classEscape(e!);
      if (cls) return { t: 'char', p: cls };
      const lit = literalEscape(e!);
      return { t: 'char', p: (c) => c === lit };
    }
    return { t: 'char', p: (c) => c === ch };
  };
  const root = alt();
  if (i !== src.length) fail('unbalanced )');
  return root;
}

// NFA states: char (pred, next), split (a, b), bol/eol (next), match.
interface State { k: 'char' | 'split' | 'bol' | 'eol' | 'match'; p?: Pred; a: number; b: number }

class Compiler {
  states: State[] = [];
  add(s: State): number {
    if (this.states.length >= MAX_STATES) throw new PatternError(`pattern expands to more than ${MAX_STATES} states`);
    this.states.push(s);
    return this.states.length - 1;
  }
  /** Compiles `n` so that it continues to state `next`; returns its entry state. */
  build(n: Node, next: number): number {
    switch (n.t) {
      case 'char': return this.add({ k: 'char', p: n.p, a: next, b: -1 });
      case 'bol': return this.add({ k: 'bol', a: next, b: -1 });
      case 'eol': return this.add({ k: 'eol', a: next, b: -1 });
      case 'cat': { let e = next; for (let j = n.xs.length - 1; j >= 0; j--) e = this.build(n.xs[j]!, e); return e; }
      case 'alt': {
        let e = this.build(n.xs[n.xs.length - 1]!, next);
        for (let j = n.xs.length - 2; j >= 0; j--) e = this.add({ k: 'split', a: this.build(n.xs[j]!, next), b: e });
        return e;
      }
      case 'rep': {
        let e = next;
        if (n.max === Infinity) {
          // loop: split -> (x -> split) | next
          const split = this.add({ k: 'split', a: -1, b: next });
          this.states[split]!.a = this.build(n.x, split);
          e = split;
        } else {
          for (let j = 0; j < n.max - n.min; j++) e = this.add({ k: 'split', a: this.build(n.x, e), b: next });
        }
        for (let j = 0; j < n.min; j++) e = this.build(n.x, e);
        return e;
      }
    }
  }
}

/** A compiled pattern: `fullMatch(s)` in time linear in `s`. */
export class SafeRegex {
  private readonly states: State[];
  private readonly start: number;

  constructor(readonly source: string) {
    const c = new Compiler();
    const match = c.add({ k: 'match', a: -1, b: -1 });
    this.start = c.build(parse(source), match);
    this.states = c.states;
  }

  /** Python's `re.fullmatch(pattern, s) is not None`. */
  fullMatch(s: string): boolean {
    const n = this.states.length;
    let cur: number[] = [];
    let next: number[] = [];
    const mark = new Int32Array(n).fill(-1);
    let gen = 0;
    const addState = (list: number[], id: number, pos: number): void => {
      const stack = [id];
      while (stack.length) {
        const x = stack.pop()!;
        if (x < 0 || mark[x] === gen) continue;
        mark[x] = gen;
        const st = this.states[x]!;
        if (st.k === 'split') { stack.push(st.b, st.a); }
        else if (st.k === 'bol') { if (pos === 0) stack.push(st.a); }
        else if (st.k === 'eol') { if (pos === s.length || (pos === s.length - 1 && s[pos] === '\n')) stack.push(st.a); }
        else list.push(x);
      }
    };
    addState(cur, this.start, 0);
    for (let pos = 0; pos < s.length; pos++) {
      gen++;
      next = [];
      const c = s[pos]!;
      for (const x of cur) {
        const st = this.states[x]!;
        if (st.k === 'char' && st.p!(c)) addState(next, st.a, pos + 1);
      }
      cur = next;
      if (cur.length === 0) return false;
    }
    return cur.some((x) => this.states[x]!.k === 'match');
  }
}
