// Mutated configurations through `xdpfw reload` of a running daemon, by the
// real CLI and control socket: each ends in a clean apply (`show config` is
// then the new configuration) or an error, with file:line:column when the
// configuration itself is wrong, and the running configuration untouched
// (`show config` unchanged). Never a crash or a hang: the daemon answers
// after every case, and whenever the base configuration is put back a new
// flow forwards.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { printHierarchical } from '../../lib/config/printer.js';
import { mildMutate } from './config-mutate.js';
import { mutatedConfig } from './config-seeds.js';
import { FuzzDaemon } from './daemon.js';
import { fuzzDaemonConfig } from './daemon-config.js';
import { fuzzPlan } from './seed.js';

const plan = fuzzPlan(71206);
t.comment(`fuzz seed ${plan.seed} (${plan.large ? 'large' : 'small'}); replay: ${plan.replay('reload')}`);

/** Longer than any reload should take on a loaded 2-core machine. */
const RELOAD_MS = 90_000;
/** The base configuration is reloaded (and forwarding checked) every this many cases. */
const RESTORE_EVERY = 4;

let daemon: FuzzDaemon;
t.before(async () => {
  daemon = await FuzzDaemon.start();
});
t.teardown(() => daemon?.destroy());

const BASE = fuzzDaemonConfig();

/** Case i's configuration: two in three mutated gently, so that some apply. */
function caseConfig(i: number): string {
  const rand = plan.rand(i);
  return i % 3 === 2 ? mutatedConfig(rand, i, [BASE]) : mildMutate(BASE, rand);
}

t.test('mutated configurations reload cleanly or fail with the running config intact', async (t) => {
  const cases = plan.cases(plan.count(8, 300));
  let running = await daemon.showConfig();
  let applied = 0;
  let located = 0;
  const unlocated: string[] = [];
  for (const [n, i] of cases.entries()) {
    const text = caseConfig(i);
    const name = `case-${i}.conf`;
    const path = join(daemon.topo.stateDir, name);
    writeFileSync(path, text);
    const what = `case ${i} (FUZZ_CASE=${i}); replay: ${plan.replay('reload', i)}\n--- config ---\n${text}`;
    const started = Date.now();
    const r = await daemon.topo.xdpfw(['reload', '-c', path, '--json'], RELOAD_MS);
    if (Date.now() - started >= RELOAD_MS) return void t.fail(`reload did not end within ${RELOAD_MS} ms: ${what}`);
    const down = await daemon.alive();
    if (down) return void t.fail(`daemon down after ${what}\n${down}`);
    const offline = compileText(text, path);
    const shown = await daemon.showConfig();
    if (r.code === 0) {
      if (!offline.ok) return void t.fail(`reload applied a configuration check rejects: ${offline.errors.join('; ')}\n${what}`);
      if (shown !== printHierarchical(offline.config.tree)) return void t.fail(`show config after a clean reload is not the new configuration: ${what}`);
      running = shown;
      applied++;
    } else {
      if (!r.stderr.trim()) return void t.fail(`reload failed without a word: ${what}`);
      if (shown !== running) return void t.fail(`a failed reload changed the running configuration (${r.stderr.trim()}): ${what}`);
      if (!offline.ok) {
        if (!r.stderr.includes(`${name}:`) || !/:\d+:\d+: /.test(r.stderr)) return void t.fail(`error without file:line:column: ${r.stderr}\n${what}`);
        located++;
      } else {
        unlocated.push(`case ${i}: ${r.stderr.trim().split('\n')[0]}`);
      }
    }
    if ((n + 1) % RESTORE_EVERY === 0 || n + 1 === cases.length) {
      const back = await daemon.topo.xdpfw(['reload', '-c', daemon.configPath], RELOAD_MS);
      if (back.code !== 0) return void t.fail(`the base configuration does not reload after case ${i}: ${back.stderr}`);
      running = await daemon.showConfig();
      const broken = await daemon.forwards();
      if (broken) return void t.fail(`after case ${i} and the base configuration reloaded: ${broken}`);
    }
  }
  if (unlocated.length) t.comment(`configurations check accepts but reload refused (not the file's fault):\n${unlocated.join('\n')}`);
  t.equal(applied + located + unlocated.length, cases.length, `${cases.length} reloads: ${applied} applied, ${located} refused with file:line:column, ${unlocated.length} refused otherwise`);
  if (plan.only === null) t.ok(applied > 0 && located > 0, 'both outcomes occur');
  t.equal(await daemon.alive(true), null, 'the daemon answers xdpfw status');
  t.equal(await daemon.forwards(), null, 'a new flow forwards');
});

// The volume: reload requests straight on the control socket (what the CLI sends),
// without a CLI process per case. Cases of their own, apart from the CLI run's.
t.test('10^4 mutated configurations through the control socket: applied, or refused with the running config intact', async (t) => {
  const offset = 1_000_000;
  const cases = plan.cases(plan.count(60, 10_000)).map((i) => i + offset);
  let running = await daemon.showConfig();
  let applied = 0;
  let refused = 0;
  for (const [n, i] of cases.entries()) {
    const text = caseConfig(i);
    const path = join(daemon.topo.stateDir, 'bulk.conf');
    writeFileSync(path, text);
    const what = `case ${i} (FUZZ_CASE=${i}); replay: ${plan.replay('reload', i)}\n--- config ---\n${text}`;
    const outcome = await daemon.request<unknown>({ command: 'reload', configPath: path }, RELOAD_MS).then(() => null, (err: Error) => err.message);
    const down = await daemon.alive();
    if (down) return void t.fail(`daemon down after ${what}\n${down}`);
    const offline = compileText(text, path);
    const shown = await daemon.showConfig();
    if (outcome === null) {
      if (!offline.ok) return void t.fail(`reload applied a configuration check rejects: ${offline.errors.join('; ')}\n${what}`);
      if (shown !== printHierarchical(offline.config.tree)) return void t.fail(`show config after a clean reload is not the new configuration: ${what}`);
      running = shown;
      applied++;
    } else {
      if (shown !== running) return void t.fail(`a failed reload changed the running configuration (${outcome}): ${what}`);
      if (!offline.ok && !/bulk\.conf:\d+:\d+: /.test(outcome)) return void t.fail(`error without file:line:column: ${outcome}\n${what}`);
      refused++;
    }
    if ((n + 1) % 500 === 0 || n + 1 === cases.length) {
      const back = await daemon.request<unknown>({ command: 'reload', configPath: daemon.configPath }, RELOAD_MS).then(() => null, (err: Error) => err.message);
      if (back) return void t.fail(`the base configuration does not reload after case ${i}: ${back}`);
      running = await daemon.showConfig();
      const broken = await daemon.forwards();
      if (broken) return void t.fail(`after case ${i} and the base configuration reloaded: ${broken}`);
    }
  }
  t.equal(applied + refused, cases.length, `${cases.length} reloads: ${applied} applied, ${refused} refused, the running config intact each time`);
  t.equal(await daemon.forwards(), null, 'a new flow forwards');
});
