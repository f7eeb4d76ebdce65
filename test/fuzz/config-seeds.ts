// The configurations the config targets mutate: the parser's own seeds and
// the ones the daemon targets run.
import { basicConfig } from '../helpers/topology.js';
import { SEEDS, mutate } from './config-mutate.js';
import { fuzzDaemonConfig } from './daemon-config.js';
import type { Rand } from './seed.js';

export const CONFIG_SEEDS: readonly string[] = [...SEEDS, fuzzDaemonConfig(), basicConfig()];

/** Case i's configuration: a seed (in turn), mutated by the case's PRNG. */
export function mutatedConfig(rand: Rand, i: number, seeds: readonly string[] = CONFIG_SEEDS): string {
  return mutate(seeds[i % seeds.length]!, rand);
}
