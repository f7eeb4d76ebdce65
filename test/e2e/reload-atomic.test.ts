// A reload either applies completely or changes nothing: a new config whose
// interface refuses XDP, names an interface that does not exist, or comes
// from a FIFO or a device leaves the running config, its interfaces, pins
// and sockets as they were, and the daemon keeps answering and forwarding.
// Also what a user without root is told.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import type { StatusReport } from '../../lib/daemon/reports.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { IFACE, SCREEN_PROFILE } from '../../lib/dataplane/layout.js';
import { closeFd, getPinned, mapDump, mapLookup } from '../../lib/dataplane/native.js';
import type { SessionView } from '../../lib/session/table.js';
import { packageRoot } from '../../lib/util/paths.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  await topo.addAlt();
  // A veth whose peer sends on more queues than it receives on: attaching in native mode fails.
  await topo.sh('fw', 'ip link add big0 numrxqueues 1 numtxqueues 1 type veth peer name big0p numrxqueues 2 numtxqueues 2 && ip link set big0 up && ip link set big0p up');
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig()), '--xdp-mode', 'native']);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
});
t.teardown(() => topo?.destroy());

const XDPFW = resolve(packageRoot, 'bin', 'xdpfw');
/** The CLI in the firewall's namespace with another state directory than the running daemon's. */
const xdpfwAt = (stateDir: string, args: string[]) => topo.exec('fw', process.execPath, [XDPFW, ...args, '--state-dir', stateDir], 60_000);
const shownConfig = async () => (await topo.xdpfwJson<{ text: string }>(['show', 'config'])).text;
const forwards = async (sport: number) => (await topo.traffic<{ received: number }>('client', [
  'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', String(sport), '--count', '3', '--timeout', '2000',
])).received;
const ifindexOf = async (name: string) => Number.parseInt(await topo.sh('fw', `ip -o link show dev ${name}`), 10);
const xdpOn = async (name: string) => /prog\/xdp|xdpgeneric|xdpdrv/.test(await topo.sh('fw', `ip -d link show dev ${name}`));
/** AF_XDP sockets bound in the firewall's namespace, by ifindex (ss --xdp prints `ifindex:N`). */
const xskIfindexes = async () => [...(await topo.sh('fw', 'ss -a --xdp')).matchAll(/ifindex:(\d+)/g)].map((m) => Number(m[1]));
/** Whether the dataplane's interface table (the pinned map the running programs read) has an entry for this ifindex. */
function inIfaceTable(ifindex: number): boolean {
  const fd = getPinned(join(statePaths(topo.stateDir).mapPinDir, 'xdpfw_ifaces'));
  try {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(ifindex);
    return mapLookup(fd, key, Buffer.alloc(IFACE.size));
  } finally {
    closeFd(fd);
  }
}
/** The whole content of a pinned map, to compare before and after. */
function pinnedMap(name: string, keySize: number, valueSize: number): string {
  const fd = getPinned(join(statePaths(topo.stateDir).mapPinDir, name));
  try {
    const d = mapDump(fd, keySize, valueSize);
    const entries: string[] = [];
    for (let i = 0; i < d.count; i++) {
      entries.push(`${d.keys.subarray(i * keySize, (i + 1) * keySize).toString('hex')}=${d.values.subarray(i * valueSize, (i + 1) * valueSize).toString('hex')}`);
    }
    return entries.sort().join(' ');
  } finally {
    closeFd(fd);
  }
}
const dataplaneTables = () => ({
  ifaces: pinnedMap('xdpfw_ifaces', 4, IFACE.size),
  screens: pinnedMap('xdpfw_screen_profiles', 4, SCREEN_PROFILE.size),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pinnedLinks = () => readdirSync(statePaths(topo.stateDir).linkPinDir).sort();
/** Line and column (1-based) of the first `word` in `text`. */
function positionOf(text: string, word: string): string {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(word));
  return `${line + 1}:${lines[line]!.indexOf(word) + 1}`;
}

/**
 * Zones for alt0 (attaches fine) and then big0 (refuses native XDP) put first, so that every
 * zone id changes; a screen on trust; the trust->untrust permit turned into a deny. Applied,
 * even in part, it would change the interface and screen tables and stop the test flows.
 */
const failingConfig = () => basicConfig()
  .replace('zones {', `zones {
        security-zone alt { interfaces { alt0; } }
        security-zone big { interfaces { big0; } }`)
  .replace('security-zone trust { interfaces { trust0; }', 'security-zone trust { screen guard; interfaces { trust0; }')
  .replace('policies {', 'screen { ids-option guard { icmp { ping-death; } tcp { land; } } }\n    policies {')
  .replace('then { permit; }', 'then { deny; }');

t.test('a reload whose new interface refuses XDP changes nothing and says why', async (t) => {
  const before = await shownConfig();
  const sockets = await xskIfindexes();
  const alt = await ifindexOf('alt0');
  const big = await ifindexOf('big0');
  t.equal(await forwards(43001), 3, 'forwarding before');
  const tables = dataplaneTables();
  const text = failingConfig();
  t.equal((await topo.xdpfw(['check', '-c', topo.writeConfig(text)])).code, 0, 'the new config itself is valid');
  const path = topo.writeConfig(text);
  // A flow running across the failed reload: the new config would deny it.
  const flow = topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', ADDR.server4, '--port', '5002', '--sport', '43000', '--count', '80', '--interval', '25',
  ]);
  await sleep(500);
  const session = (await topo.xdpfwJson<SessionView[]>(['show', 'sessions'])).find((x) => x.sourcePort === 43000);
  t.ok(session, 'flow running');

  const r = await topo.xdpfw(['reload', '-c', path]);
  t.not(r.code, 0, 'reload fails');
  t.match(r.stderr, /running configuration stays/, 'says the running config stays');
  t.match(r.stderr, new RegExp(`xdpfw\\.conf:${positionOf(text, 'big0;')}: interface 'big0': it has fewer receive queues than its veth peer has transmit queues`),
    'names the interface, the statement that names it and why');

  t.equal(await shownConfig(), before, 'show config is the old config');
  t.same(dataplaneTables(), tables, 'interface zones and screen profiles in the dataplane unchanged');
  t.equal((await flow).received, 80, 'the running flow lost nothing');
  t.equal((await topo.xdpfwJson<SessionView[]>(['show', 'sessions'])).find((x) => x.sourcePort === 43000)?.sessionId, session?.sessionId,
    'and kept its session');
  const status = await topo.xdpfwJson<StatusReport>(['status']);
  t.same(status.interfaces.map((i) => i.name).sort(), ['trust0', 'untrust0'], 'status: the old interfaces only');
  t.equal(await forwards(43002), 3, 'the old interfaces still forward under the old permit');
  t.notOk(await xdpOn('alt0'), 'alt0, attached before big0 failed, has no XDP left');
  t.notOk(await xdpOn('big0'), 'big0 has no XDP');
  t.same(pinnedLinks(), ['trust0', 'untrust0'], 'no pinned link left for alt0 or big0');
  t.notOk(inIfaceTable(alt), 'alt0 left no entry in the interface table');
  t.notOk(inIfaceTable(big), 'big0 left no entry in the interface table');
  const after = await xskIfindexes();
  t.notOk(after.includes(alt) || after.includes(big), 'no AF_XDP socket left on alt0 or big0');
  t.equal(after.length, sockets.length, 'as many AF_XDP sockets as before');

  // What failed leaves nothing in the way: the same interface can be added for real.
  const good = topo.writeConfig(basicConfig().replace('zones {', 'zones {\n        security-zone alt { interfaces { alt0; } }'));
  const ok = await topo.xdpfw(['reload', '-c', good]);
  t.equal(ok.code, 0, ok.stderr);
  t.ok(await xdpOn('alt0'), 'alt0 attached by the next good reload');
  t.same(pinnedLinks(), ['alt0', 'trust0', 'untrust0']);
  t.equal(await forwards(43003), 3, 'forwarding after');
  const back = await topo.xdpfw(['reload', '-c', topo.writeConfig(basicConfig())]);
  t.equal(back.code, 0, back.stderr);
  t.notOk(await xdpOn('alt0'), 'a removed interface is detached');
});

t.test('a reload naming a missing interface names it and its line; nothing changes', async (t) => {
  const before = await shownConfig();
  const text = basicConfig().replace('interfaces { untrust0; }', 'interfaces { untrust0; ghost7; }');
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(text)]);
  t.not(r.code, 0);
  t.match(r.stderr, new RegExp(`xdpfw\\.conf:${positionOf(text, 'ghost7')}: interface 'ghost7' does not exist`), 'file:line:column and the interface');
  t.match(r.stderr, /running configuration stays/);
  t.notMatch(r.stderr, /ifNameToIndex|No such device/, 'not the system call\'s words');
  t.equal(await shownConfig(), before);
  t.equal(await forwards(43011), 3);
});

t.test('load naming a missing interface names it and its line, and loads nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-ghost-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const text = basicConfig().replace('interfaces { trust0; }', 'interfaces { trust0; ghost8; }');
  const path = topo.writeConfig(text);
  const r = await xdpfwAt(dir, ['load', '-c', path]);
  t.not(r.code, 0);
  t.match(r.stderr, new RegExp(`xdpfw\\.conf:${positionOf(text, 'ghost8')}: interface 'ghost8' does not exist`));
  t.match(r.stderr, /nothing was loaded/);
  t.notOk(existsSync(statePaths(dir).pinDir), 'no pins for that state directory');
  topo.writeConfig(basicConfig());
});

t.test('reload, check and load refuse anything but a regular file, at once', async (t) => {
  const fifo = join(topo.stateDir, 'config.fifo');
  execFileSync('mkfifo', [fifo]);
  const dir = join(topo.stateDir, 'config.d');
  mkdirSync(dir, { recursive: true });
  const before = await shownConfig();
  const cases: Array<[string, RegExp]> = [
    [fifo, /config\.fifo is a FIFO \(named pipe\), not a regular file/],
    [dir, /config\.d is a directory, not a regular file/],
    ['/dev/zero', /\/dev\/zero is a character device, not a regular file/],
    [join(topo.stateDir, 'missing.conf'), /missing\.conf: no such file/],
  ];
  for (const [path, message] of cases) {
    // A FIFO with no writer would block an open() forever: the 60 s limit only catches a hang.
    const r = await topo.xdpfw(['reload', '-c', path], 60_000);
    t.not(r.code, 0, `reload ${path} fails`);
    t.match(r.stderr, message, `reload ${path}: says what it is`);
    t.match(r.stderr, /the running one stays/);
    const c = await topo.xdpfw(['check', '-c', path], 60_000);
    t.not(c.code, 0);
    t.match(c.stderr, message, `check ${path}`);
    const l = await xdpfwAt(join(topo.stateDir, 'other'), ['load', '-c', path]);
    t.not(l.code, 0);
    t.match(l.stderr, message, `load ${path}`);
  }
  const status = await topo.xdpfw(['status']);
  t.equal(status.code, 0, 'the daemon answers status');
  t.equal(await shownConfig(), before, 'config unchanged');
  t.equal(await forwards(43021), 3, 'forwarding works');
});

t.test('a user without root is told what is needed', async (t) => {
  // As a user's shell would run it: nothing of the test runner's environment. The checkout may sit
  // in a directory only root can enter (mktemp -d), so the user keeps CAP_DAC_READ_SEARCH to read
  // the program: it still may not write to the control socket, and has no CAP_BPF or CAP_NET_ADMIN.
  const asNobody = ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups',
    '--inh-caps=-all,+dac_read_search', '--ambient-caps=-all,+dac_read_search', process.execPath, XDPFW];
  const status = await topo.exec('fw', 'env', [...asNobody, 'status', '--state-dir', topo.stateDir]);
  t.not(status.code, 0);
  t.match(status.stderr, /permission denied on the control socket .*needs root, or membership of the socket's group 'root'/);
  t.notMatch(status.stderr, /EACCES/);

  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-nobody-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o777);
  const conf = join(dir, 'xdpfw.conf');
  execFileSync('cp', [topo.writeConfig(basicConfig()), conf]);
  chmodSync(conf, 0o644);
  const load = await topo.exec('fw', 'env', [...asNobody, 'load', '-c', conf, '--state-dir', join(dir, 'state')]);
  t.not(load.code, 0);
  t.match(load.stderr, /'xdpfw load' must run as root: .*CAP_BPF and CAP_NET_ADMIN; you are nobody/);
  t.notMatch(load.stderr, /EACCES|EPERM/);
  t.notOk(existsSync(statePaths(join(dir, 'state')).pinDir), 'nothing loaded');
  t.equal((await topo.xdpfw(['status'])).code, 0, 'the running daemon is untouched');
});
