// The configurations the config targets mutate: the parser's own seeds and
// the ones the daemon targets run.
import { basicConfig } from '../helpers/topology.js';
import { SEEDS, mildMutate, mutate } from './config-mutate.js';
import { fuzzDaemonConfig } from './daemon-config.js';
import type { Rand } from './seed.js';

export const CONFIG_SEEDS: readonly string[] = [...SEEDS, fuzzDaemonConfig(), basicConfig()];

/**
 * Case i's configuration: a seed (in turn), mutated by the case's PRNG; one case in
 * four gently (mildMutate), so the compiler sees configurations that parse.
 */
export function mutatedConfig(rand: Rand, i: number, seeds: readonly string[] = CONFIG_SEEDS): string {
  const seed = seeds[i % seeds.length]!;
  return Math.floor(i / seeds.length) % 4 === 3 ? mildMutate(seed, rand) : mutate(seed, rand);
}
