/**
 * The PyTorch anchor's environment, shared by every bench that runs one: the libraries it needs are installed
 * (apt-get, when running as root) or the bench refuses to run, and each anchor process checks from the inside
 * what it really loaded (scripts/anchor_env.py reads /proc/self/maps) and exits with status 3 when jemalloc is
 * not mapped, torch's BLAS is not OpenBLAS (float32 anchors) or torch has no oneDNN (bf16 anchors). A refusal
 * stops the bench before it writes a result: a silently weak anchor (LD_PRELOAD of a missing jemalloc does
 * nothing; Debian's libblas.so.3 is the reference BLAS unless OpenBLAS is installed) inflates every ratio.
 *
 * Environment of an anchor process on `threads` threads: LD_PRELOAD = jemalloc with MALLOC_CONF keeping freed
 * memory, OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = threads, OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed (so
 * OpenBLAS detects this CPU), and an OpenBLAS unpacked into bench/work/openblas first on LD_LIBRARY_PATH when the
 * system one is absent and cannot be installed (LION_OPENBLAS_LIB overrides).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PYTHON = process.env.LION_BENCH_PYTHON ?? '/usr/bin/python3';
export const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const SYSTEM_OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3';
export const MALLOC_CONF = 'retain:true,dirty_decay_ms:-1,muzzy_decay_ms:-1';

/** What an anchor needs: jemalloc always; OpenBLAS for float32 matmuls; oneDNN for bf16 ones. */
export type AnchorNeed = 'jemalloc' | 'openblas' | 'onednn-bf16';

/** Thrown when the anchor cannot be set up: the bench stops and writes nothing. */
export class AnchorRefused extends Error {}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function aptInstall(pkgs: string[]): boolean {
  if (!isRoot()) return false;
  process.stderr.write(`anchor: installing ${pkgs.join(' ')} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let p = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (p.status !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
    p = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  }
  return p.status === 0;
}

let prepared: { openblasDir?: string } | null = null;

/**
 * Makes sure python3-torch, jemalloc and OpenBLAS are on this machine (installing them as root), once per
 * process. Throws AnchorRefused with the reason otherwise.
 */
export function prepareAnchor(): { openblasDir?: string } {
  if (prepared) return prepared;
  if (!existsSync(PYTHON)) throw new AnchorRefused(`${PYTHON} not found (install python3 and python3-torch)`);
  if (spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0 && !aptInstall(['python3-torch'])) {
    throw new AnchorRefused(`${PYTHON} cannot import torch; install python3-torch (apt-get install python3-torch) and re-run`);
  }
  if (!existsSync(JEMALLOC) && !aptInstall(['libjemalloc2'])) {
    throw new AnchorRefused(`${JEMALLOC} is missing: the anchor would run without jemalloc (~3x slower); apt-get install libjemalloc2 and re-run`);
  }
  if (!existsSync(JEMALLOC)) throw new AnchorRefused(`${JEMALLOC} still missing after installing libjemalloc2`);
  let openblasDir: string | undefined = process.env.LION_OPENBLAS_LIB;
  if (!openblasDir && !existsSync(SYSTEM_OPENBLAS) && !aptInstall(['libopenblas0-pthread'])) {
    const local = join(repoRoot, 'bench/work/openblas/root/usr/lib/x86_64-linux-gnu/openblas-pthread');
    if (!existsSync(join(local, 'libblas.so.3'))) spawnSync('bash', [join(repoRoot, 'scripts/bench_gemm_openblas.sh')], { stdio: 'ignore' });
    if (existsSync(join(local, 'libblas.so.3'))) openblasDir = local;
  }
  if (!openblasDir && existsSync(SYSTEM_OPENBLAS)) openblasDir = dirname(SYSTEM_OPENBLAS);
  prepared = { openblasDir };
  return prepared;
}

/** The anchor's environment for `threads` threads, and the same as a printable description. */
export function anchorEnv(threads: number): { env: NodeJS.ProcessEnv; described: Record<string, string> } {
  const { openblasDir } = prepareAnchor();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const described: Record<string, string> = {
    OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), LD_PRELOAD: JEMALLOC, MALLOC_CONF,
  };
  if (openblasDir) described.LD_LIBRARY_PATH = [openblasDir, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { env: { ...env, ...described }, described };
}

/** The shell line that reproduces an anchor run. */
export function anchorCommand(described: Record<string, string>, script: string, args: string[]): string {
  return `${Object.entries(described).map(([k, v]) => `${k}=${v}`).join(' ')} env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${PYTHON} ${script} ${args.join(' ')}`;
}

/** Exit status with which scripts/anchor_env.py `require` refuses. */
export const REFUSED_STATUS = 3;

/** Turns an anchor child's refusal (exit 3) into AnchorRefused; returns normally otherwise. */
export function checkRefusal(p: { status: number | null; stderr: string | Buffer | null }, what: string): void {
  if (p.status === REFUSED_STATUS) {
    const line = String(p.stderr ?? '').trim().split('\n').filter((l) => l.includes('refused')).pop() ?? String(p.stderr).trim();
    throw new AnchorRefused(`${what}: ${line}`);
  }
}

// A refusal ends the bench with its reason on one line (exit 3) and no result file, not with a stack trace.
process.on('uncaughtException', (e) => {
  if (e instanceof AnchorRefused) {
    process.stderr.write(`bench refused, no result written: ${e.message}\n`);
    process.exit(REFUSED_STATUS);
  }
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
