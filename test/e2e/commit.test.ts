// Commits the Junos way, end to end with the real daemon: reload --confirm
// with confirm in time, the automatic rollback when it does not come (also
// across a daemon restart in the window), rollback N, and diff.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { CommitListEntry } from '../../lib/commit/commits.js';
import type { DiffReport } from '../../lib/commit/daemon-diff.js';
import type { PoliciesReport } from '../../lib/daemon/policies-report.js';
import type { ReloadReport, StatusReport } from '../../lib/daemon/reports.js';
import { request } from '../../lib/control/client.js';
import type { ControlRequest } from '../../lib/control/protocol.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { waitGone } from '../helpers/fail-closed.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
let jsonFile: string;

const base = () => basicConfig(`system { syslog { file-json ${jsonFile}; } }`);
/** A deny rule for SSH in front of allow-out. */
const withNoSsh = () => base().replace('policy allow-out {', `policy no-ssh {
                match { source-address any; destination-address any; application junos-ssh; }
                then { deny; }
            }
            policy allow-out {`);
/** allow-out denies: nothing passes. */
const denying = () => base().replace('then { permit; }', 'then { deny; }');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Reads straight from the control socket (what the CLI's --json prints), sparing a CLI start per poll. */
const ctl = <T>(req: ControlRequest) => request<T>(statePaths(topo.stateDir).socket, req);
const status = () => ctl<StatusReport>({ command: 'status' });
const policyNames = async () => (await ctl<PoliciesReport>({ command: 'show-policies' })).policies.map((p) => `${p.name}:${p.action}`);
const history = () => ctl<CommitListEntry[]>({ command: 'show-rollback' });
const runningText = async () => (await ctl<{ text: string }>({ command: 'show-config', format: 'hierarchical' })).text;
const commitEvents = () => existsSync(jsonFile)
  ? readFileSync(jsonFile, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as { kind: string; action?: string; tag?: string; commit?: number })
    .filter((e) => e.kind === 'commit')
  : [];
const udpPasses = async () => (await topo.traffic<{ received: number }>('client',
  ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', '2', '--timeout', '800'])).received === 2;

/** A file per variant: the archive must keep each text, whatever happens to the file later. */
function write(name: string, text: string): string {
  const path = join(topo.stateDir, name);
  writeFileSync(path, text);
  return path;
}

/** Polls until `ok` holds; false after a generous deadline (a loaded 2-core machine). */
async function eventually(ok: () => Promise<boolean>, ms = 120_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

let basePath: string;
t.before(async () => {
  topo = await Topology.create();
  jsonFile = join(topo.stateDir, 'events.jsonl');
  basePath = write('base.conf', base());
  const r = await topo.xdpfw(['load', '-c', basePath]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002'], 600_000);
});
t.teardown(() => topo?.destroy());

t.test('reload --confirm, confirmed in time, stays', async (t) => {
  const before = (await status()).commit?.current;
  t.ok(before, 'status names the running commit');
  const r = await topo.xdpfw(['reload', '-c', write('no-ssh.conf', withNoSsh()), '--confirm', '10', '--json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReloadReport;
  t.ok(report.commit?.confirmBy, 'the answer says by when to confirm');
  const pending = (await status()).commit?.pendingConfirm;
  t.match(pending, { commit: report.commit?.commit, rollbackTo: before }, 'status shows the pending confirm and what it would roll back to');
  t.ok(pending && pending.secondsLeft > 60 && pending.secondsLeft <= 600, `deadline about 10 minutes away (${pending?.secondsLeft} s)`);
  const human = await topo.xdpfw(['status']);
  t.match(human.stdout, /Pending confirm: commit \d+, rolled back to commit \d+ at /);
  const c = await topo.xdpfw(['confirm']);
  t.equal(c.code, 0, c.stderr);
  t.match(c.stdout, new RegExp(`commit ${report.commit?.commit} confirmed`));
  t.equal((await status()).commit?.pendingConfirm, null, 'nothing pending any more');
  t.same(await policyNames(), ['no-ssh:deny', 'allow-out:permit'], 'the confirmed config runs');
  const again = await topo.xdpfw(['confirm']);
  t.not(again.code, 0, 'a second confirm has nothing to confirm');
  t.match(again.stderr, /no commit awaits confirmation/);
  t.ok(await eventually(async () => commitEvents().some((e) => e.action === 'commit-confirmed' && e.tag === 'UI_COMMIT_CONFIRMED'), 20_000),
    'the confirmed commit is logged in the JSON event file');
  t.ok(commitEvents().some((e) => e.action === 'confirm'), 'and so is the confirm');
});

t.test('not confirmed in time, the previous configuration comes back by itself', async (t) => {
  const before = (await status()).commit?.current;
  const r = await topo.xdpfw(['reload', '-c', write('deny.conf', denying()), '--confirm', '0.05', '--json']);
  t.equal(r.code, 0, r.stderr);
  const rolledBack = await eventually(async () => (await status()).commit?.pendingConfirm === null);
  t.ok(rolledBack, 'the pending commit is resolved without anyone confirming');
  t.same(await policyNames(), ['no-ssh:deny', 'allow-out:permit'], 'the configuration from before runs again');
  t.ok(await udpPasses(), 'and traffic passes again');
  const latest = (await history())[0];
  t.match(latest, { rollback: 0, kind: 'automatic-rollback', rollbackOf: before }, 'the archive records the automatic rollback');
  t.equal((await status()).commit?.current, latest?.commit);
  t.ok(await eventually(async () => commitEvents().some((e) => e.action === 'automatic-rollback' && e.tag === 'UI_COMMIT_CONFIRMED_TIMED'), 20_000),
    'logged');
});

t.test('a daemon restarted in the confirm window still rolls back', async (t) => {
  const before = (await status()).commit?.current;
  const denyPath = write('deny2.conf', denying());
  const r = await topo.xdpfw(['reload', '-c', denyPath, '--confirm', '0.4', '--json']);
  t.equal(r.code, 0, r.stderr);
  const pending = (await status()).commit?.pendingConfirm;
  t.ok(pending, 'pending');
  t.equal(await udpPasses(), false, 'the unconfirmed config denies');
  const pid = (await status()).pid;
  process.kill(pid, 'SIGTERM');
  await waitGone(pid);
  // Started again with the unconfirmed file, as an operator restarting the service would.
  const load = await topo.xdpfw(['load', '-c', denyPath]);
  t.equal(load.code, 0, load.stderr);
  const s = await status();
  t.not(s.pid, pid, 'a new daemon');
  // Unless the restart outlasted the window (then the rollback came at start), the deadline is still the same.
  if (s.commit?.pendingConfirm) t.equal(s.commit.pendingConfirm.deadline, pending?.deadline, 'the deadline survived the restart');
  t.ok(await eventually(async () => (await status()).commit?.pendingConfirm === null), 'the new daemon rolls back when the deadline passes');
  t.same(await policyNames(), ['no-ssh:deny', 'allow-out:permit'], 'the configuration from before the unconfirmed commit runs');
  t.match((await history())[0], { kind: 'automatic-rollback', rollbackOf: before });
  t.ok(await udpPasses(), 'traffic passes');
});

t.test('rollback N re-applies the Nth previous configuration; the archive lists them', async (t) => {
  const list = await history();
  t.ok(list.length >= 5, `${list.length} archived configurations`);
  t.same(list.map((e) => e.rollback), list.map((_, i) => i), 'numbered from 0, the running one');
  const human = await topo.xdpfw(['rollback', '--list']);
  t.match(human.stdout, /^ 0 .* commit \d+ +automatic-rollback/m);
  // The first loaded config (base, without no-ssh) is the oldest entry.
  const oldest = list.at(-1)!;
  const r = await topo.xdpfw(['rollback', String(oldest.rollback), '--json']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout) as ReloadReport, { commit: { kind: 'rollback', rollbackOf: oldest.commit } });
  t.same(await policyNames(), ['allow-out:permit'], 'the oldest configuration runs again');
  t.match((await history())[0], { kind: 'rollback', rollbackOf: oldest.commit });
  const none = await topo.xdpfw(['rollback', '49']);
  t.not(none.code, 0);
  t.match(none.stderr, /no rollback 49: the archive holds \d+ configurations/);
});

t.test('diff prints what a file would change as set/delete lines; changes nothing', async (t) => {
  const running = await runningText();
  const d = await topo.xdpfwJson<DiffReport>(['diff', '-c', write('diff.conf', withNoSsh().replace('udp 60;', 'udp 90;'))]);
  t.same(d.lines, [
    'delete security flow timeouts udp 60',
    'set security policies from-zone trust to-zone untrust policy no-ssh match source-address any',
    'set security policies from-zone trust to-zone untrust policy no-ssh match destination-address any',
    'set security policies from-zone trust to-zone untrust policy no-ssh match application junos-ssh',
    'set security policies from-zone trust to-zone untrust policy no-ssh then deny',
    'set security flow timeouts udp 90',
    'insert security policies from-zone trust to-zone untrust policy no-ssh before policy allow-out',
  ]);
  const same = await topo.xdpfw(['diff', '-c', basePath]);
  t.equal(same.code, 0, same.stderr);
  t.match(same.stdout, /no changes/);
  const vsRollback = await ctl<DiffReport>({ command: 'diff', rollback: 1 });
  t.ok(vsRollback.lines.length > 0, 'against an archived configuration too');
  const bad = await topo.xdpfw(['diff', '-c', write('bad.conf', 'security { zones { ')]);
  t.not(bad.code, 0);
  t.match(bad.stderr, /bad\.conf:\d+:\d+: /, 'errors carry file:line:column');
  t.equal(await runningText(), running, 'the running configuration is untouched');
});

t.test('a broken config with --confirm changes nothing and leaves nothing pending', async (t) => {
  const before = await history();
  const r = await topo.xdpfw(['reload', '-c', write('broken.conf', base().replace('application any;', 'application nope;')), '--confirm', '1']);
  t.not(r.code, 0);
  t.match(r.stderr, /the running one stays/);
  t.equal((await status()).commit?.pendingConfirm, null);
  t.same(await history(), before, 'nothing archived');
});
