/**
 * `lion init`: a new model from a config.json and a tokenizer, initialised at random (as Hugging Face does) or
 * as a lexical retriever before any training step (src/train/init.ts: identity trunk, token classes sharing
 * one direction, embedding norms from the corpus's IDF). Writes `<out>/config.json`, `model.safetensors`
 * (fp32), the tokenizer files and `<out>/init.json` (the options and the corpus statistics used).
 */
import { DEFAULTS } from '../../defaults.js';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { readHfConfig } from '../../io/hfconfig.js';
import { docText, readCorpus } from '../../io/corpus.js';
import { LlamaModel } from '../../model/llama.js';
import { normaliseConfig } from '../../model/registry.js';
import { saveModel } from '../../model/checkpoint.js';
import { loadTokenizer } from '../../tokenizer/tokenizer.js';
import { initLexical, initWeights, lexicalStatistics } from '../../train/init.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { parseArgs, type OptTable } from '../args.js';
import type { Command } from '../command.js';

const options = {
  config: { kind: 'string', required: true, help: 'config.json of the new model (Llama; tie_word_embeddings true for lexical)' },
  tokenizer: { kind: 'string', required: true, help: 'directory with tokenizer.json (its vocabulary size must match the config)' },
  out: { kind: 'string', required: true, help: 'model directory to write' },
  init: { kind: 'string', default: 'random', help: 'random, lexical-sparse or lexical-dense' },
  corpus: { kind: 'string', help: 'lexical: documents the IDF statistics come from (BEIR corpus.jsonl or pid\\ttext TSV)' },
  'max-docs': { kind: 'int', min: 1, help: 'lexical: read at most this many documents of --corpus (default all)' },
  seed: { kind: 'int', default: 42, help: `seed of the random weights and directions (the shipped models' seed; retrieval training uses ${DEFAULTS.train.seed})` },
  'idf-power': { kind: 'number', min: 0, help: 'lexical: class weight = scale · idf^p (default 0.5 sparse, 1 dense)' },
  scale: { kind: 'number', min: 0, default: 1, help: 'lexical: multiplier of the class weights' },
  threshold: { kind: 'number', min: 0, default: 0.3, help: 'lexical-sparse: cosine a cross-token logit must exceed to count' },
  'tf-k1': { kind: 'number', min: 0, default: 1, help: 'lexical-sparse: term-frequency saturation k1 made by the first attention layer (0: binary bag of words; > 0 needs slow rotary pairs, e.g. rope_theta 500000)' },
  'match-logit': { kind: 'number', min: 0, default: 20, help: 'lexical-sparse with tf: attention logit between two tokens of one class' },
  'pool-scale': { kind: 'number', min: 0, default: 100, help: 'lexical-dense: gain of the pooling attention layer' },
  'min-df': { kind: 'int', min: 1, default: 1, help: 'lexical: classes in fewer documents get no weight' },
} satisfies OptTable;

export const initCommand: Command = {
  name: 'init',
  summary: 'create a model from a config and a tokenizer: random, or a lexical sparse/dense retriever at step 0',
  usage: 'lion init --config tiny.json --tokenizer tok/ --init lexical-sparse --corpus text.jsonl --out scratch-sp',
  options,
  async run(argv) {
    const o = parseArgs(argv, options, 'init');
    if (o._.length) throw new UsageError(`init: unexpected argument '${o._[0]}'`);
    const kind = o.init;
    if (kind !== 'random' && kind !== 'lexical-sparse' && kind !== 'lexical-dense') throw new UsageError(`init: --init is random, lexical-sparse or lexical-dense, got '${kind}'`, { field: 'init' });
    if (kind !== 'random' && !o.corpus) throw new UsageError(`init: --init ${kind} needs --corpus (the documents its IDF comes from)`, { field: 'corpus' });
    const cfg = normaliseConfig(readHfConfig(o.config));
    const tok = loadTokenizer(o.tokenizer);
    if (tok.vocabSize !== cfg.vocabSize) throw new UsageError(`the tokenizer has ${tok.vocabSize} ids but ${o.config} says vocab_size ${cfg.vocabSize}`, { file: o.config, field: 'vocab_size' });
    const model = new LlamaModel(cfg, { withHead: true });
    const t0 = performance.now();
    let record: Record<string, unknown> = { init: kind, seed: o.seed };
    if (kind === 'random') initWeights(model, o.seed);
    else {
      const texts: string[] = [];
      for await (const r of readCorpus(o.corpus!)) {
        texts.push(docText(r));
        if (o['max-docs'] !== undefined && texts.length >= o['max-docs']) break;
      }
      const stats = lexicalStatistics(tok, texts);
      const paradigm = kind === 'lexical-sparse' ? 'sparse' : 'dense';
      const weights = initLexical(model, stats, { paradigm, seed: o.seed, idfPower: o['idf-power'] as number | undefined, scale: o.scale, threshold: o.threshold, tfK1: o['tf-k1'], matchLogit: o['match-logit'], poolScale: o['pool-scale'], minDf: o['min-df'] });
      let weighted = 0;
      for (const w of weights) if (w > 0) weighted++;
      record = { ...record, paradigm, corpus: o.corpus, documents: stats.docs, classes: stats.terms.length, weightedClasses: weighted, idsInClasses: stats.classOf.filter((c) => c >= 0).length, idfPower: o['idf-power'] ?? (paradigm === 'sparse' ? 0.5 : 1), scale: o.scale, threshold: o.threshold, tfK1: paradigm === 'sparse' ? o['tf-k1'] : undefined, matchLogit: o['match-logit'], poolScale: o['pool-scale'], minDf: o['min-df'] };
    }
    mkdirSync(o.out, { recursive: true });
    await saveModel(model, o.out);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      const src = join(o.tokenizer, f);
      if (existsSync(src)) cpSync(src, join(o.out, f));
    }
    record.seconds = (performance.now() - t0) / 1000;
    await writeFileAtomic(join(o.out, 'init.json'), `${JSON.stringify(record, null, 2)}\n`);
    process.stderr.write(`init: ${kind} ${cfg.hiddenSize}x${cfg.numLayers}, vocabulary ${cfg.vocabSize} -> ${o.out}\n`);
    return 0;
  },
};
