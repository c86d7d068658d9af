// Child process of the resume-after-kill test: trains, and SIGKILLs itself right after optimiser step `killAt`.
import { ref } from '../../src/kernels/ref/index.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { trainRetriever, type RetrievalTrainOptions } from '../../src/train/trainer.js';

const { killAt, ...opts } = JSON.parse(process.argv[2]!) as Omit<RetrievalTrainOptions, 'tokenizer'> & { killAt: number };
await trainRetriever({
  ...opts, tokenizer: loadTokenizer(opts.model), kernels: ref,
  onStep: (step) => { if (step === killAt) process.kill(process.pid, 'SIGKILL'); },
});
