/**
 * A hand-made collection whose BM25 scores were computed by hand (numpy float32, Lucene's operation order):
 * d0 "cat dog cat" (length 3), d1 "dog dog dog fish" (4), d2 "bird" as a title (1), d3 "cat" + 40×"pig"
 * (41, stored by Lucene as 40), d4 stop words only (0, not counted). N = 4, sumTotalTermFreq = 49.
 * For the query "cat cat fish": d0 1.0549529790878296, d1 0.7263563871383667, d3 0.510509729385376
 * (0.5050440430641174 with exact lengths).
 */
import type { TextRecord } from '../../src/types.js';

export const HAND_DOCS: TextRecord[] = [
  { id: 'd0', text: 'cat dog cat' },
  { id: 'd1', text: 'dog dog dog fish' },
  { id: 'd2', title: 'bird', text: '' },
  { id: 'd3', text: `cat${' pig'.repeat(40)}` },
  { id: 'd4', text: 'the of and' },
];

export const HAND_QUERY = 'cat cat fish';
export const HAND_SCORES = { d0: 1.0549529790878296, d1: 0.7263563871383667, d3: 0.510509729385376 };
export const HAND_D3_EXACT = 0.5050440430641174;
