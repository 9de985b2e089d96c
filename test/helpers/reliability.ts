/**
 * Shared by the reliability suites (chaos, identity model, fuzz, cross-workspace): how big a run is, a seeded
 * generator, and the JSON summary each suite writes so `npm run reliability:report` can render docs/reliability.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testBackend } from './backend.js';

/** `npm run chaos` sets ROSTER_CHAOS=long: the same suites, many times bigger. */
export const longRun = process.env.ROSTER_CHAOS === 'long';

/**
 * A size for the short run (`npm test`) and one for the long run (`npm run chaos`); ROSTER_CHAOS_SCALE multiplies.
 * PostgreSQL round trips are several times slower, so its short run may be given a smaller size of its own.
 */
export function sized(short: number, long: number, postgresShort = short): number {
  const scale = Number(process.env.ROSTER_CHAOS_SCALE ?? 1);
  const base = longRun ? long : testBackend === 'postgres' ? postgresShort : short;
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** The seed of a run: ROSTER_SEED replays one; otherwise drawn at random and reported in failures and results. */
export function runSeed(): number {
  const fixed = process.env.ROSTER_SEED;
  return fixed !== undefined && fixed !== '' ? Number(fixed) >>> 0 : Math.floor(Math.random() * 2 ** 31);
}

/** mulberry32: a tiny deterministic PRNG, so a seed replays the same requests. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, chance: (p: number) => next() < p, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}

/** One test's line in docs/reliability.md. */
export interface ReliabilityResult {
  suite: string;
  test: string;
  /** What was tried: requests, cycles, inputs, runs… */
  size: Record<string, number | string>;
  result: 'passed' | 'failed';
  seed?: number;
  notes?: string;
}

const resultsDir = new URL('../../test-results/reliability/', import.meta.url).pathname;

/** Writes a test's summary to test-results/reliability/ (one file per test, run mode and backend). */
export function recordResult(r: ReliabilityResult): void {
  mkdirSync(resultsDir, { recursive: true });
  const slug = `${r.suite}--${r.test}`.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const file = join(resultsDir, `${slug}--${longRun ? 'long' : 'short'}--${testBackend}.json`);
  const scale = process.env.ROSTER_CHAOS_SCALE;
  const run = `${longRun ? 'long' : 'short'}${scale && Number(scale) !== 1 ? ` ×${scale}` : ''}`;
  const body = { ...r, run, backend: testBackend, at: new Date().toISOString() };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
}

/**
 * Runs a test body that fills `size` as it goes, and records the result whether it passes or throws.
 * The seed (when given) is added to the failure message.
 */
export async function recorded(
  meta: { suite: string; test: string; seed?: number },
  body: (size: ReliabilityResult['size'], note: (text: string) => void) => Promise<void>,
): Promise<void> {
  const size: ReliabilityResult['size'] = {};
  const notes: string[] = [];
  try {
    await body(size, (t) => notes.push(t));
    recordResult({ ...meta, size, result: 'passed', notes: notes.join(' ') || undefined });
  } catch (err) {
    recordResult({ ...meta, size, result: 'failed', notes: [...notes, String(err).slice(0, 300)].join(' ') });
    if (meta.seed !== undefined && err instanceof Error)
      err.message = `[seed ${meta.seed}; replay with ROSTER_SEED=${meta.seed}] ${err.message}`;
    throw err;
  }
}
