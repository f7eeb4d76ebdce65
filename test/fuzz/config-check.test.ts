// Mutated configurations through loadConfigFile, what `xdpfw check` runs:
// each ends in errors that carry file:line:column, or in a configuration
// that reads back the same from either printed form; never an exception,
// and never a case that does not end (each case gets its own deadline; the
// cases run in a worker thread the test can stop).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import type { CheckJob, CheckMessage } from './config-check-worker.js';
import { mutatedConfig } from './config-seeds.js';
import { fuzzPlan } from './seed.js';

const plan = fuzzPlan(61206);
t.comment(`fuzz seed ${plan.seed} (${plan.large ? 'large' : 'small'}); replay: ${plan.replay('config-check')}`);

/** Longer than any configuration should take to compile on a loaded machine. */
const CASE_MS = 30_000;

t.test('mutated configurations end in located errors or a configuration, never a crash or hang', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-fuzz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cases = plan.cases(plan.count(300, 10_000));
  const worker = new Worker(new URL('./config-check-worker.js', import.meta.url), { workerData: { seed: plan.seed, cases, dir } satisfies CheckJob });
  let current = -1;
  let compiled = 0;
  let rejected = 0;
  const problems: string[] = [];
  const outcome = await new Promise<string>((resolve) => {
    let timer = setTimeout(() => resolve('no case started'), CASE_MS);
    worker.on('message', (m: CheckMessage) => {
      clearTimeout(timer);
      timer = setTimeout(() => resolve(`case ${current} did not end within ${CASE_MS} ms`), CASE_MS);
      if ('start' in m) {
        current = m.start;
        return;
      }
      if (m.problem) problems.push(`case ${m.done} (FUZZ_CASE=${m.done}): ${m.problem}\n--- input ---\n${m.text}`);
      else if (m.compiled) compiled++;
      else rejected++;
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      resolve(`worker died in case ${current}: ${err.stack ?? err.message}`);
    });
    worker.on('exit', () => {
      clearTimeout(timer);
      resolve('finished');
    });
  });
  await worker.terminate();
  if (outcome !== 'finished') {
    t.fail(`${outcome}\n--- input ---\n${mutatedConfig(plan.rand(current), current)}\nreplay: ${plan.replay('config-check', current)}`);
    return;
  }
  if (problems.length) t.fail(`${problems.length} cases went wrong, the first:\n${problems[0]}\nreplay: ${plan.replay('config-check')}`);
  t.equal(compiled + rejected + problems.length, cases.length, `${cases.length} configurations: ${compiled} compiled, ${rejected} rejected with located errors`);
  if (plan.only === null) t.ok(compiled > 0 && rejected > 0, 'both outcomes occur');
});
