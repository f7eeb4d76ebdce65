// Running under a service manager: the shipped systemd unit passes
// `systemd-analyze verify` (shipped and as install-service writes it), and the
// real daemon speaks the notify protocol to a real NOTIFY_SOCKET with the
// unit's capability bounding set: READY=1 only once XDP is attached and the
// control socket answers, watchdog pings from the daemon itself, STOPPING=1
// on SIGTERM with XDP left attached.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { StatusReport } from '../../lib/daemon/reports.js';
import { identifyDaemon } from '../../lib/daemon/pid-file.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { SHIPPED_UNIT, UNIT_NAME, renderUnit, shippedUnit } from '../../lib/service/unit.js';
import { packageRoot } from '../../lib/util/paths.js';
import { NotifyListener } from '../helpers/notify-socket.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

const run = promisify(execFile);
const XDPFW = resolve(packageRoot, 'bin', 'xdpfw');
const scratch = mkdtempSync(join(tmpdir(), 'xdpfw-service-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

interface Verified { code: number; diagnostics: string[] }

/** systemd-analyze verify: exit code and every diagnostic line it printed. */
async function verify(unitPath: string): Promise<Verified> {
  try {
    const r = await run('systemd-analyze', ['verify', unitPath], { timeout: 120_000 });
    return { code: 0, diagnostics: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '') };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('systemd-analyze is missing: `make deps` installs the systemd package');
    return { code: typeof e.code === 'number' ? e.code : -1, diagnostics: `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '') };
  }
}

/** A unit's value for `key` (the last assignment wins, as in systemd). */
function unitValue(text: string, key: string): string | undefined {
  return [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].at(-1)?.[1];
}

t.test('systemd-analyze verify rejects a broken unit here: the checks below can fail', async (t) => {
  const broken = join(scratch, 'broken', UNIT_NAME);
  await run('mkdir', ['-p', join(scratch, 'broken')]);
  const good = renderUnit(shippedUnit(), { node: process.execPath, xdpfw: XDPFW, config: '/etc/xdpfw/xdpfw.conf' });
  writeFileSync(broken, good.replace(/^Type=notify$/m, 'Type=notifyy').replace(/^(RestrictAddressFamilies=.*)$/m, '$1 AF_XDPP')
    .replace(/^WatchdogSec=/m, 'WatchdogSecs='));
  const r = await verify(broken);
  const said = r.diagnostics.join(' | ');
  t.ok(r.diagnostics.some((l) => /Failed to parse service type/.test(l)), `bad Type= reported: ${said}`);
  t.ok(r.diagnostics.some((l) => /Failed to parse address family.*AF_XDPP/.test(l)), 'bad address family reported');
  t.ok(r.diagnostics.some((l) => /Unknown key 'WatchdogSecs'/.test(l)), 'unknown key reported');
});

t.test('the shipped unit verifies: nothing to report but its documented /usr/local/bin/xdpfw, when absent', async (t) => {
  const text = shippedUnit();
  t.equal(unitValue(text, 'ExecStart'), '/usr/local/bin/xdpfw run -c /etc/xdpfw/xdpfw.conf');
  const r = await verify(SHIPPED_UNIT);
  const expected = existsSync('/usr/local/bin/xdpfw') ? [] : ['xdpfw.service: Command /usr/local/bin/xdpfw is not executable: No such file or directory'];
  t.same([...new Set(r.diagnostics)], expected, 'no unknown key, no unparsable value');
});

t.test('install-service writes a unit for this installation that verifies cleanly and is hardened', async (t) => {
  const unitDir = join(scratch, 'units');
  const config = join(scratch, 'fw.conf');
  const first = await run(process.execPath, [XDPFW, 'install-service', '--unit-dir', unitDir, '-c', config]);
  t.match(first.stdout, new RegExp(`wrote ${unitDir}/xdpfw\\.service`));
  t.match(first.stdout, /does not exist yet/, 'says the config is still to be written');
  t.match(first.stdout, /systemctl daemon-reload[\s\S]*systemctl enable --now xdpfw/, 'and what to do next');
  writeFileSync(config, basicConfig());
  const second = await run(process.execPath, [XDPFW, 'install-service', '--unit-dir', unitDir, '-c', config]);
  t.match(second.stdout, /replaced/);
  t.notMatch(second.stdout, /does not exist yet/);

  const path = join(unitDir, UNIT_NAME);
  const text = readFileSync(path, 'utf8');
  t.equal(unitValue(text, 'ExecStart'), `${process.execPath} ${XDPFW} run -c ${config}`, 'this node, this bin/xdpfw, the config given');
  t.equal(unitValue(text, 'ExecReload'), `${process.execPath} ${XDPFW} reload -c ${config}`);
  for (const [key, value] of [['Type', 'notify'], ['NotifyAccess', 'main'], ['Restart', 'always'], ['KillMode', 'mixed'],
    ['ProtectSystem', 'strict'], ['ReadWritePaths', '/sys/fs/bpf'], ['RuntimeDirectory', 'xdpfw'], ['LimitMEMLOCK', 'infinity']]) {
    t.equal(unitValue(text, key!), value, `${key}=${value}`);
  }
  t.match(unitValue(text, 'WatchdogSec') ?? '', /^\d+s$/);

  const r = await verify(path);
  t.same(r.diagnostics, [], 'systemd-analyze verify has nothing to say');
  t.equal(r.code, 0);
  // Fails if the sandboxing is dropped: without it the exposure is 9+ ("UNSAFE").
  const security = await run('systemd-analyze', ['security', '--offline=yes', '--threshold=50', path]).then(() => 0, (e: { code: number }) => e.code);
  t.equal(security, 0, 'systemd-analyze security rates the exposure 5.0 or better');

  const refused = await run(process.execPath, [XDPFW, 'install-service', '--unit-dir', unitDir, '--state-dir', scratch]).then(() => null, (e: { stderr: string }) => e.stderr);
  t.match(refused, /state directory \/run\/xdpfw/, 'a state directory the unit cannot give the daemon is refused');
});

/** The capability bounding set systemd would give the daemon, as setpriv arguments. */
function boundingSet(): string {
  const caps = unitValue(shippedUnit(), 'CapabilityBoundingSet')!.split(/\s+/).filter(Boolean);
  return `-all,${caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',')}`;
}

t.test('the daemon under a NOTIFY_SOCKET, with the unit\'s capabilities', async (t) => {
  const topo = await Topology.create();
  t.teardown(() => topo.destroy());
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  const paths = statePaths(topo.stateDir);
  const socket = join(scratch, 'notify.sock');
  const listener = await NotifyListener.start(socket, { stopOnReady: true });
  t.teardown(() => listener.close());
  const config = topo.writeConfig(basicConfig());

  // As systemd starts it: the main process is node itself (nsenter and setpriv exec, keeping the pid),
  // with the unit's bounding set and no new privileges.
  const daemon: ChildProcess = spawn('nsenter', [`--net=/run/netns/${topo.ns.fw}`, 'setpriv', `--bounding-set=${boundingSet()}`,
    '--inh-caps=-all', '--no-new-privs', process.execPath, XDPFW, 'run', '-c', config, '--state-dir', topo.stateDir], {
    env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '2000000' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  daemon.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  daemon.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => daemon.once('exit', (code) => r(code)));
  t.teardown(() => { if (daemon.exitCode === null) daemon.kill('SIGKILL'); });

  const ready = await listener.waitFor('READY=1', (m) => m.fields.READY === '1').catch((err: Error) => {
    throw new Error(`${err.message}\ndaemon output: ${output}`);
  });
  // The listener froze the daemon the moment READY=1 arrived: this is the state it declared ready in.
  t.ok(ready.stopped, 'the daemon is held where it sent READY=1');
  t.equal(ready.pid, daemon.pid, 'sent by the main process (NotifyAccess=main)');
  t.ok(listener.received.indexOf(ready) > 0 && listener.received.slice(0, listener.received.indexOf(ready)).every((m) => !('WATCHDOG' in m.fields)),
    'a loading status first, no watchdog ping before READY');
  for (const dev of ['trust0', 'untrust0']) {
    t.match(await topo.sh('fw', `ip -d link show dev ${dev}`), /prog\/xdp/, `XDP already attached to ${dev}`);
  }
  t.match(identifyDaemon(paths), { kind: 'ours', pid: daemon.pid }, 'pid file written, naming this daemon');
  t.ok(existsSync(paths.socket), 'control socket in place');
  t.match(ready.fields.STATUS ?? '', /^filtering on trust0 \(\w+, \d+ queues?\), untrust0 \(\w+, \d+ queues?\); 0\/\d+ sessions$/);
  process.kill(daemon.pid!, 'SIGCONT');

  const status = await topo.xdpfwJson<StatusReport>(['status']);
  t.equal(status.pid, daemon.pid, 'status answers from the daemon that declared itself ready');
  const ping = await topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', '41001', '--count', '1', '--timeout', '2000',
  ]);
  t.equal(ping.received, 1, 'a new flow through the slow path: it serves with these capabilities');
  const beforeReload = listener.received.length;
  t.equal((await topo.xdpfw(['reload', '-c', config])).code, 0, 'reload works with these capabilities');
  const reloading = await listener.waitFor('RELOADING=1', (m, i) => i >= beforeReload && m.fields.RELOADING === '1');
  const reloadedAt = listener.received.indexOf(reloading);
  t.match(reloading, { pid: daemon.pid, fields: { MONOTONIC_USEC: /^\d+$/, STATUS: `reloading ${config}` } }, 'RELOADING=1 from the daemon as the reload begins');
  await listener.waitFor('READY=1 after the reload', (m, i) => i > reloadedAt && m.fields.READY === '1' && m.pid === daemon.pid);
  t.pass('READY=1 again once the reload is done');

  const readyAt = listener.received.indexOf(ready);
  await listener.waitFor('three watchdog pings', (m, i) => i > readyAt && m.fields.WATCHDOG === '1'
    && listener.received.slice(readyAt + 1, i + 1).filter((x) => x.fields.WATCHDOG === '1').length >= 3);
  const pings = listener.received.filter((m) => m.fields.WATCHDOG === '1');
  t.ok(pings.every((m) => m.pid === daemon.pid), 'every ping from the daemon itself');
  await listener.waitFor('a ping counting the session', (m) => m.fields.WATCHDOG === '1' && /; 1\/\d+ sessions$/.test(m.fields.STATUS ?? ''));
  t.pass('the status line follows the session table');

  daemon.kill('SIGTERM');
  const stopping = await listener.waitFor('STOPPING=1', (m) => m.fields.STOPPING === '1');
  t.equal(stopping.pid, daemon.pid);
  t.match(stopping.fields.STATUS ?? '', /SIGTERM: XDP stays attached/);
  t.equal(await exited, 0, 'a clean exit: RestartPreventExitStatus=0 keeps systemd from restarting it');
  t.match(await topo.sh('fw', 'ip -d link show dev trust0'), /prog\/xdp/, 'stopped, the box stays filtered');
  const stopAt = listener.received.indexOf(stopping);
  t.same(listener.received.slice(stopAt + 1).filter((m) => m.fields.WATCHDOG === '1' || m.fields.READY === '1'), [],
    'nothing after STOPPING=1 claims the daemon is alive');
});

t.test('a daemon that cannot start says why and never sends READY=1', async (t) => {
  const topo = await Topology.create();
  t.teardown(() => topo.destroy());
  const socket = join(scratch, 'notify-fail.sock');
  const listener = await NotifyListener.start(socket);
  t.teardown(() => listener.close());
  const config = topo.writeConfig(basicConfig().replace('untrust0;', 'nosuch9;'));
  const r = await run('nsenter', [`--net=/run/netns/${topo.ns.fw}`, process.execPath, XDPFW, 'run', '-c', config, '--state-dir', topo.stateDir], {
    env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '2000000' }, timeout: 120_000,
  }).then(() => 0, (e: { code: number }) => e.code);
  t.not(r, 0, 'exits non-zero: systemd restarts it');
  const failed = await listener.waitFor('start failed', (m) => /^start failed: /.test(m.fields.STATUS ?? ''));
  t.match(failed.fields.STATUS, /nosuch9/, 'systemctl status names the cause');
  t.notOk(listener.received.some((m) => m.fields.READY === '1' || m.fields.WATCHDOG === '1'), 'never ready, never pinged');
});

/** Every system call in the groups the unit's SystemCallFilter=~... denies, as systemd-analyze lists them. */
async function deniedSyscalls(): Promise<string[]> {
  const filter = unitValue(shippedUnit(), 'SystemCallFilter') ?? '';
  if (!filter.startsWith('~')) throw new Error(`expected a deny-list, got SystemCallFilter=${filter}`);
  const { stdout } = await run('systemd-analyze', ['syscall-filter', ...filter.slice(1).split(/\s+/).filter(Boolean)]);
  return [...new Set(stdout.split('\n').map((l) => l.trim()).filter((l) => /^[a-z_0-9]+$/.test(l)))];
}

t.test('the daemon makes none of the system calls the unit denies, through start, traffic, reload and stop', async (t) => {
  const denied = await deniedSyscalls();
  t.ok(denied.includes('mount') && denied.includes('ptrace'), 'the groups resolve to system calls');
  const topo = await Topology.create();
  t.teardown(() => topo.destroy());
  await topo.startTraffic('server', ['udp-echo', '--port', '5003']);
  const config = topo.writeConfig(basicConfig());
  const trace = join(scratch, 'syscalls.trace');
  // bpf is traced too, as a control: the trace must show the calls the daemon does make.
  const traced = ['bpf', ...denied].map((name) => `?${name}`).join(',');
  const tracer = spawn('nsenter', [`--net=/run/netns/${topo.ns.fw}`, 'strace', '-f', '-qq', '-o', trace, '-e', `trace=${traced}`, '-e', 'signal=none',
    process.execPath, XDPFW, 'run', '-c', config, '--state-dir', topo.stateDir], { stdio: 'ignore' });
  const done = new Promise<number | null>((r) => tracer.once('exit', (code) => r(code)));
  t.teardown(() => { if (tracer.exitCode === null) tracer.kill('SIGKILL'); });
  let status: StatusReport | null = null;
  for (let i = 0; i < 1200 && status === null && tracer.exitCode === null; i++) {
    const r = await topo.xdpfw(['status', '--json']);
    if (r.code === 0) status = JSON.parse(r.stdout) as StatusReport;
    else await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(status, 'the traced daemon came up');
  const ping = await topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', ADDR.server4, '--port', '5003', '--sport', '41002', '--count', '1', '--timeout', '2000',
  ]);
  t.equal(ping.received, 1, 'a flow through the slow path');
  t.equal((await topo.xdpfw(['reload', '-c', config])).code, 0, 'a reload');
  process.kill(status!.pid, 'SIGTERM');
  t.equal(await done, 0, 'stopped cleanly');
  const calls = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((l) => /^\d+\s+([a-z_0-9]+)\(/.exec(l)?.[1] ?? l);
  t.ok(calls.includes('bpf'), 'the trace records what the daemon calls');
  t.same([...new Set(calls.filter((c) => c !== 'bpf'))], [], 'no denied system call: the filter cannot break the daemon');
});
