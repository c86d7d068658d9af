/**
 * The three training-file formats of the authors' code (spec §5.1, scaling_retriever/dataset/dataset.py), one
 * JSON object per line:
 *
 *   CL     {"question": str, "pos_pid": id, "neg_pids": [id, ...]}                          msmarco_train.jsonl
 *   CL+KD  CL fields + {"pos_score": float, "neg_scores": [float, ...]} (aligned to neg_pids)
 *   KD     {"query": str, "docids": [id, ...], "scores": [float, ...]}  docids[0] = the qrel positive
 *
 * Invariants checked on every line: ids are non-empty strings or integers (returned as strings); CL needs at
 * least one negative; CL+KD needs `neg_scores` aligned with `neg_pids`; KD needs at least two docids (the
 * positive and one negative) and `scores` aligned with them; all scores finite numbers; every line of a file
 * has the same kind. The sampling (16 negatives per access, one KD negative) is the trainer's business.
 */
import { FormatError } from '../errors.js';
import { fieldError, has, id, idList, num, numList, readJsonLines, str, type JsonLine } from './jsonl.js';

export type TrainingKind = 'cl' | 'clkd' | 'kd';

/** CL: a query, its positive passage id and hard-negative ids. */
export interface ClExample {
  kind: 'cl';
  query: string;
  posId: string;
  negIds: string[];
}

/** CL+KD: CL plus teacher scores for the positive and each negative (index-aligned). */
export interface ClKdExample {
  kind: 'clkd';
  query: string;
  posId: string;
  negIds: string[];
  posScore: number;
  negScores: number[]; // (negIds.length)
}

/** KD: a query, docids with docIds[0] the qrel positive, and aligned teacher scores. */
export interface KdExample {
  kind: 'kd';
  query: string;
  docIds: string[];
  scores: number[]; // (docIds.length)
}

export type TrainingExample = ClExample | ClKdExample | KdExample;

/** The kind a line's fields say it is. */
function kindOf(j: JsonLine): TrainingKind {
  if (has(j, 'docids') || has(j, 'scores') || (has(j, 'query') && !has(j, 'question'))) return 'kd';
  if (has(j, 'pos_score') || has(j, 'neg_scores')) return 'clkd';
  return 'cl';
}

/** Parse and validate one training line. */
export function parseTrainingLine(j: JsonLine, kind: TrainingKind = kindOf(j)): TrainingExample {
  if (kind === 'kd') {
    const query = str(j, 'query');
    const docIds = idList(j, 'docids');
    const scores = numList(j, 'scores');
    if (docIds.length < 2) throw fieldError(j, 'docids', 'at least 2 docids (the positive first, then negatives)');
    if (scores.length !== docIds.length) {
      throw fieldError(j, 'scores', `${docIds.length} scores aligned with docids, got ${scores.length}`);
    }
    return { kind, query, docIds, scores };
  }
  const query = str(j, 'question');
  const posId = id(j, 'pos_pid');
  const negIds = idList(j, 'neg_pids');
  if (negIds.length < 1) throw fieldError(j, 'neg_pids', 'at least 1 negative id');
  if (kind === 'cl') return { kind, query, posId, negIds };
  const posScore = num(j, 'pos_score');
  const negScores = numList(j, 'neg_scores');
  if (negScores.length !== negIds.length) {
    throw fieldError(j, 'neg_scores', `${negIds.length} scores aligned with neg_pids, got ${negScores.length}`);
  }
  return { kind, query, posId, negIds, posScore, negScores };
}

export interface ReadTrainingOptions {
  /**
   * Require this kind; by default the first line decides and every later line must match it. `cl` also
   * accepts CL+KD lines and drops their scores.
   */
  kind?: TrainingKind;
}

const KIND_NAMES: Record<TrainingKind, string> = {
  cl: 'CL (question, pos_pid, neg_pids)',
  clkd: 'CL+KD (question, pos_pid, neg_pids, pos_score, neg_scores)',
  kd: 'KD (query, docids, scores)',
};

/**
 * Stream a training file as typed, validated examples.
 *
 * @example
 * ```ts
 * for await (const ex of readTrainingFile('msmarco_train.jsonl')) if (ex.kind === 'cl') use(ex.negIds);
 * ```
 */
export async function* readTrainingFile(path: string, opts: ReadTrainingOptions = {}): AsyncGenerator<TrainingExample> {
  let kind = opts.kind;
  for await (const j of readJsonLines(path)) {
    const k = kindOf(j);
    if (kind === undefined) kind = k;
    else if (k !== kind && !(kind === 'cl' && k === 'clkd')) { // CL may train from a CL+KD file
      throw new FormatError(`expected a ${KIND_NAMES[kind]} example like the rest of the file, this line looks like ${KIND_NAMES[k]}`, {
        file: path, line: j.lineNo,
      });
    }
    yield parseTrainingLine(j, kind);
  }
}
