// End to end: `xdpfw unload` stops only the daemon it started. A pid file
// naming another process (a stale file whose pid was reused, or anything
// written there) never gets that process signalled, and with nothing loaded
// unload says so instead of reporting success.
import t, { type Test } from 'tap';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { StatusReport } from '../../lib/daemon/reports.js';
import { Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
});
t.teardown(() => topo?.destroy());

/** Still running after a moment (a process SIGKILLed by unload would be dead or a zombie by then). */
async function alive(p: ChildProcess): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 500));
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** A process that is not the daemon, killed at the end of the test. */
function bystander(t: Test, args: string[]): ChildProcess {
  const p = spawn(args[0]!, args.slice(1), { stdio: 'ignore' });
  t.teardown(() => void p.kill('SIGKILL'));
  return p;
}

t.test('with nothing loaded, unload says so and fails', async (t) => {
  const r = await topo.xdpfw(['unload']);
  t.not(r.code, 0, 'non-zero exit');
  t.match(r.stderr, /nothing loaded/, r.stderr.trim());
  t.notMatch(r.stdout, /unloaded/, 'no claim of success');
});

t.test('unload leaves alone a foreign process whose pid is in the pid file', async (t) => {
  const sleeper = bystander(t, ['sleep', '600']);
  writeFileSync(statePaths(topo.stateDir).pidFile, `${sleeper.pid}\n`);
  const r = await topo.xdpfw(['unload']);
  t.not(r.code, 0, 'nothing was loaded');
  t.match(r.stderr, new RegExp(`pid ${sleeper.pid}, left alone: process ${sleeper.pid} is not an xdpfw daemon`), r.stderr.trim());
  t.ok(await alive(sleeper), 'the process still runs');
});

t.test('a reused pid: a process looking like this daemon but started after the pid file is left alone', async (t) => {
  // Its command line is an xdpfw daemon's for this state directory; only its start time differs.
  const lookalike = bystander(t, [process.execPath, '-e', 'setInterval(() => {}, 1e6)', '/opt/bin/xdpfw', 'run', '--state-dir', topo.stateDir]);
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(statePaths(topo.stateDir).pidFile, `${lookalike.pid}\n1\n`);
  const r = await topo.xdpfw(['unload']);
  t.match(r.stderr, /its pid was reused/, r.stderr.trim());
  t.ok(await alive(lookalike), 'the process still runs');
});

t.test('a pid file naming PID 1 or garbage: nothing is signalled, a stale file does not block load', async (t) => {
  for (const text of ['1\n', '-1\n', 'xdpfw\n']) {
    writeFileSync(statePaths(topo.stateDir).pidFile, text);
    const r = await topo.xdpfw(['unload']);
    t.match(r.stderr, /nothing loaded/, `pid file ${JSON.stringify(text)}: ${r.stderr.trim()}`);
  }
  const sleeper = bystander(t, ['sleep', '600']);
  writeFileSync(statePaths(topo.stateDir).pidFile, `${sleeper.pid}\n`);
  const load = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  t.equal(load.code, 0, `a pid file naming another process does not stop load (${load.stderr.trim()})`);
  const pid = (await topo.xdpfwJson<StatusReport>(['status'])).pid;
  t.equal(Number.parseInt(readFileSync(statePaths(topo.stateDir).pidFile, 'utf8'), 10), pid, 'the pid file names the new daemon');
  const r = await topo.xdpfw(['unload']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /unloaded/);
  t.ok(await alive(sleeper), 'the other process still runs');
  t.not((await topo.xdpfw(['status'])).code, 0, 'the daemon is gone');
});
