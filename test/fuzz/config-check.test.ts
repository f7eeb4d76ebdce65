// Mutated configurations through loadConfigFile, what `xdpfw check` runs
// (and a sample through the command itself):
// each ends in errors that carry file:line:column, or in a configuration
// that reads back the same from either printed form; never an exception,
// and never a case that does not end (each case gets its own deadline; the
// cases run in a worker thread the test can stop).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { packageRoot } from '../../lib/util/paths.js';
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

t.test('mutated configurations through the xdpfw check command: exit 0, or errors with file:line:column', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-fuzz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const offset = 1_000_000; // cases of their own, apart from the library run's
  const cases = plan.only === null ? plan.cases(plan.count(5, 200)).map((i) => i + offset) : [plan.only];
  let passed = 0;
  let refused = 0;
  for (const i of cases) {
    const text = mutatedConfig(plan.rand(i), i);
    const file = join(dir, `case-${i}.conf`);
    writeFileSync(file, text);
    const r = await run(process.execPath, [XDPFW, 'check', '-c', file], CASE_MS);
    const what = `case ${i}: ${plan.replay('config-check', i)}\n--- input ---\n${text}`;
    if (r.timedOut) return void t.fail(`check did not end within ${CASE_MS} ms: ${what}`);
    if (r.code === 0) passed++;
    else if (r.code !== 0 && r.code !== null && r.stderr.split('\n').some((l) => l.startsWith(`${file}:`) && /^[^:]+:\d+:\d+: \S/.test(l))) refused++;
    else return void t.fail(`check exited ${r.code} without a located error:\n${r.stderr}\n${what}`);
  }
  t.equal(passed + refused, cases.length, `${cases.length} checks: ${passed} passed, ${refused} refused with file:line:column`);
});

const XDPFW = resolve(packageRoot, 'bin', 'xdpfw');

/** Runs a command to its end or the deadline. */
function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((done) => {
    const child = execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
      const e = err as (Error & { killed?: boolean }) | null;
      done({ code: child.exitCode, stderr, timedOut: e?.killed === true });
    });
  });
}
