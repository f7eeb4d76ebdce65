// End to end: the daemon run as a host service would run it (network
// namespace only, the host's mount namespace), killed, and adopted by one
// started with `ip netns exec`; the host's bpffs reached through
// /proc/1/root; a bpffs private to the namespace never used; and a refusal
// to start, saying how to fix it, where no bpffs outlives the daemon.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { StatusReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { packageRoot } from '../../lib/util/paths.js';
import {
  deniedConnect, killDaemonAndCheck, linkPinnedOnHost, startEndpoints, udpPing, waitGone, xdpAttached, xdpfwJson,
} from '../helpers/fail-closed.js';
import { Topology, basicConfig } from '../helpers/topology.js';

const run = promisify(execFile);
const XDPFW = resolve(packageRoot, 'bin', 'xdpfw');

let topo: Topology;
let conf: string;
t.before(async () => {
  topo = await Topology.create();
  conf = topo.writeConfig(basicConfig());
  await startEndpoints(topo);
});
t.teardown(() => topo?.destroy());

/** Runs a shell command line on the host; never throws. */
async function host(cmd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('sh', ['-c', cmd], { timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

const xdpfwCmd = (args: string) => `${process.execPath} ${XDPFW} ${args} --state-dir ${topo.stateDir}`;

t.test('SIGKILL of a daemon run in the host mount namespace; the next one, started with ip netns exec, adopts', (t) =>
  killDaemonAndCheck(t, topo, conf, { start: 'nsenter', restart: 'ip-netns-exec', signal: 'SIGKILL', portBase: 43000 }));

t.test('a bpffs mounted inside the ip netns exec namespace is not used for the pins', async (t) => {
  await topo.xdpfw(['unload']);
  const r = await host(`ip netns exec ${topo.ns.fw} sh -c 'mount -t bpf bpf /sys/fs/bpf && ${xdpfwCmd(`load -c ${conf}`)}'`);
  t.equal(r.code, 0, `loaded (${r.stderr.trim()})`);
  t.ok(linkPinnedOnHost(topo, 'trust0'), 'the links are pinned on the host\'s bpffs');
  const pid = (await xdpfwJson<StatusReport>(topo, ['status'], 'nsenter')).pid;
  process.kill(pid, 'SIGKILL');
  await waitGone(pid);
  t.ok(await xdpAttached(topo, 'trust0'), 'XDP stays attached once the daemon and its namespace are gone');
  t.notOk((await deniedConnect(topo)).ok, 'a denied connection still fails');
});

t.test('through /proc/1/root: a daemon whose whole PID namespace dies leaves the firewall closed', async (t) => {
  await topo.xdpfw(['unload']);
  // A PID namespace of its own, whose PID 1 (sh) is reachable, with `ip netns
  // exec` inside: the daemon reaches the host's bpffs through /proc/1/root,
  // and is killed with everything else when that PID 1 exits.
  const r = await host(`unshare --pid --fork --mount-proc sh -c "ip netns exec ${topo.ns.fw} ${xdpfwCmd(`load -c ${conf}`)}"`);
  t.equal(r.code, 0, `loaded (${r.stderr.trim()})`);
  const log = readFileSync(statePaths(topo.stateDir).logFile, 'utf8');
  t.match(log.trim().split('\n').at(-1), /reached at \/proc\/1\/root\/sys\/fs\/bpf$/, 'the daemon pinned through /proc/1/root');
  t.ok(linkPinnedOnHost(topo, 'trust0'), 'on the host\'s bpffs');
  t.not((await topo.xdpfw(['status'])).code, 0, 'the daemon died with its PID namespace');
  for (const dev of ['trust0', 'untrust0']) t.ok(await xdpAttached(topo, dev), `XDP still attached to ${dev}`);
  t.notOk((await deniedConnect(topo)).ok, 'a denied connection still fails');
  t.equal((await udpPing(topo, 43100, 2)).received, 0, 'a new permitted flow is dropped');
  const again = await topo.xdpfw(['load', '-c', conf]);
  t.equal(again.code, 0, `the next daemon takes over (${again.stderr.trim()})`);
  t.equal((await udpPing(topo, 43101, 2)).received, 2, 'and new flows work again');
});

t.test('without a bpffs that outlives it, the daemon refuses to start and says how to fix it', async (t) => {
  await topo.xdpfw(['unload']);
  // A mount namespace without any bpffs whose PID 1 (in a PID namespace of
  // its own) sees none either: no pin could outlive the daemon.
  const r = await topo.exec('fw', 'unshare', ['--mount', '--pid', '--fork', '--mount-proc', 'sh', '-c',
    `while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf; done; ${xdpfwCmd(`load -c ${conf}`)}`]);
  t.not(r.code, 0, 'load fails');
  t.match(r.stderr, /no bpffs is mounted at \/sys\/fs\/bpf/, 'saying what is missing');
  t.match(r.stderr, /mount -t bpf bpf \/sys\/fs\/bpf/, 'and how to fix it');
  for (const dev of ['trust0', 'untrust0']) t.notOk(await xdpAttached(topo, dev), `nothing attached to ${dev}`);
});
