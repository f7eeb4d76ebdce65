// Runs config cases through loadConfigFile in a worker thread, so the test
// can tell a case that never ends (the parser or compiler looping) from a
// slow one: it posts each case number before and after.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfigFile } from '../../lib/config/compile.js';
import { problem } from './config-mutate.js';
import { mutatedConfig } from './config-seeds.js';
import { fuzzPlan } from './seed.js';

export interface CheckJob { seed: number; cases: number[]; dir: string }
export type CheckMessage = { start: number } | { done: number; compiled: boolean; problem: string | null; text: string };

const job = workerData as CheckJob;
process.env.FUZZ_SEED = String(job.seed);
const plan = fuzzPlan(job.seed);
const file = join(job.dir, 'fuzz.conf');
for (const i of job.cases) {
  parentPort!.postMessage({ start: i } satisfies CheckMessage);
  const text = mutatedConfig(plan.rand(i), i);
  writeFileSync(file, text);
  let compiled = false;
  const p = problem(text, () => {
    const r = loadConfigFile(file);
    compiled = r.ok;
    return r;
  }, file);
  parentPort!.postMessage({ done: i, compiled, problem: p, text: p ? text : '' } satisfies CheckMessage);
}
