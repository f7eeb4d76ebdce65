// Seeds and sizes of the fuzz tier. `make test` runs a small, fixed-seed
// subset; `make fuzz` (FUZZ_SCALE=large) runs the full volume with a fresh
// seed unless FUZZ_SEED names one. Case i of a run draws from its own PRNG,
// derived from (seed, i), so a failure replays from the seed alone, and
// FUZZ_CASE=i runs that case alone.
import { prng } from '../helpers/prng.js';

export type Rand = () => number;

export interface FuzzPlan {
  seed: number;
  large: boolean;
  /** The one case to run (FUZZ_CASE), if any. */
  only: number | null;
  /** `small` cases in `make test`, `large` in `make fuzz`. */
  count(small: number, large: number): number;
  /** The case numbers to run: 0..n-1, or FUZZ_CASE alone. */
  cases(n: number): number[];
  /** The PRNG of case `i`. */
  rand(i: number): Rand;
  /** How to run this again, printed with every failure. */
  replay(file: string, i?: number): string;
}

function intEnv(name: string): number | null {
  const v = process.env[name];
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`${name}=${v}: expected an integer 0..4294967295`);
  return n;
}

/** The plan of one fuzz target; `fixedSeed` is the seed `make test` uses. */
export function fuzzPlan(fixedSeed: number): FuzzPlan {
  const large = process.env.FUZZ_SCALE === 'large';
  const given = intEnv('FUZZ_SEED');
  const seed = given ?? (large ? Math.floor(Math.random() * 0x100000000) : fixedSeed);
  const only = intEnv('FUZZ_CASE');
  return {
    seed,
    large,
    only,
    count: (small, big) => (large ? big : small),
    cases: (n) => (only === null ? Array.from({ length: n }, (_, i) => i) : [only]),
    rand: (i) => prng(mix(seed, i)),
    replay: (file, i) =>
      `FUZZ_SEED=${seed}${i === undefined ? '' : ` FUZZ_CASE=${i}`} ${large ? 'make fuzz' : `bash test/run.sh dist/test/fuzz/${file}.test.js`}`,
  };
}

/** A 32-bit seed for case i (murmur3 finalizer over both words). */
function mix(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
export const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
export const chance = (rand: Rand, p: number): boolean => rand() < p;
export function bytes(rand: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
