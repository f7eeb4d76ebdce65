// End to end, real daemon and real traffic through client ── fw ── server:
// a session's tuple forged on the other zone's interface is not forwarded,
// ICMPv6 ND/MLD to a host behind the firewall does not reach it while ND with
// the firewall keeps working, non-IP EtherTypes are dropped unless listed,
// and the `ip spoofing` screen drops sources whose route leaves elsewhere.
import { spawn } from 'node:child_process';
import t from 'tap';
import type { EventJson } from '../../lib/cli/format-events.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { ScreenStatsReport } from '../../lib/screens/stats.js';
import type { SessionView } from '../../lib/session/table.js';
import { frame, type FrameSpec } from '../helpers/packets.js';
import { ADDR, type Host, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
const macs: Record<string, string> = {};

const CONFIG = basicConfig();

t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  for (const [host, dev] of [['client', 'eth0'], ['server', 'eth0'], ['fw', 'trust0'], ['fw', 'untrust0']] as Array<[Host, string]>) {
    macs[`${host}:${dev}`] = (JSON.parse(await topo.sh(host, `ip -j link show dev ${dev}`)) as Array<{ address: string }>)[0]!.address;
  }
});

t.teardown(async () => {
  await topo?.destroy();
});

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const drop = (c: CountersReport, name: string) => c.drops[name] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until it reaches `want` (generous on a loaded machine); returns the last value. */
async function reaches(read: () => Promise<number>, want: number): Promise<number> {
  let v = await read();
  for (let i = 0; i < 150 && v < want; i++) {
    await sleep(100);
    v = await read();
  }
  return v;
}

/** Sends `spec` `count` times from `host`'s eth0 to the firewall's interface facing it. */
async function forge(host: 'client' | 'server', spec: FrameSpec, count: number): Promise<void> {
  const fwDev = host === 'client' ? 'trust0' : 'untrust0';
  const data = frame({ ...spec, srcMac: macs[`${host}:eth0`], dstMac: macs[`fw:${fwDev}`] });
  await topo.traffic('client' === host ? 'client' : 'server', ['raw-send', '--iface', 'eth0', '--frame', data.toString('hex'), '--count', String(count)]);
}

/** Carried by every forged packet, so a capture tells them from real traffic. */
const MAGIC = Buffer.from('xdpfw-forged-frame');

// Counts, on eth0, frames carrying MAGIC that arrive until a marker arrives: an ICMP or ICMPv6 echo
// (request or reply) to the marker address, sent after the forged frames were counted in the
// firewall. Whatever the firewall forwarded of them arrived before it.
const CAPTURE = `
import socket, sys, json
iface, magic, marker = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
v6 = ':' in marker
marker = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, marker)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((iface, 0))
print(json.dumps({'ready': True}), flush=True)
seen = 0
while True:
    f, addr = s.recvfrom(65535)
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    if not v6 and f[12:14] == b'\\x08\\x00':
        l4 = 14 + (f[14] & 15) * 4
        if f[23] == 1 and f[l4] in (0, 8) and f[30:34] == marker:
            break
    if v6 and f[12:14] == b'\\x86\\xdd':
        if f[20] == 58 and f[54] in (128, 129) and f[38:54] == marker:
            break
    if magic in f:
        seen += 1
print(json.dumps({'seen': seen}), flush=True)
`;

/** Starts a capture on `host`'s eth0; `done` resolves with the forged frames seen before the marker. */
async function capture(host: Host, markerDst: string): Promise<{ done: Promise<number> }> {
  const child = spawn('nsenter', [`--net=/run/netns/${topo.ns[host]}`, 'python3', '-c', CAPTURE, 'eth0', MAGIC.toString('hex'), markerDst], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => (ready = r));
  const done = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready"')) ready();
    });
    child.on('exit', () => {
      try {
        resolve((JSON.parse(out.trim().split('\n').at(-1) ?? '') as { seen: number }).seen);
      } catch {
        reject(new Error(`capture ended without a result: ${out}`));
      }
    });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.on('exit', () => clearTimeout(timer));
  await isReady;
  return { done };
}

/** One echo request from the client to `dst`: the marker of a capture. */
async function marker(family: 4 | 6, dst: string): Promise<void> {
  await topo.exec('client', 'ping', [`-${family}`, '-c', '1', '-W', '5', dst]);
}

t.test('a session tuple forged on the other zone\'s interface is not forwarded, and the connection goes on', async (t) => {
  const trickle = await topo.startTraffic('client', [
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '60', '--interval', '100', '--timeout', '30000',
  ], 120_000);
  const localPort = (JSON.parse(trickle.lines[0]!) as { localPort: number }).localPort;
  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  t.ok(sessions.some((s) => s.protocol === 'tcp' && s.sourcePort === localPort), 'the connection has a session');
  const before = await counters();

  // From the untrust side, the client's tuple (to the server) with an arbitrary sequence number.
  const atServer = await capture('server', ADDR.server4);
  const atClient = await capture('client', ADDR.client4);
  const injected: FrameSpec = {
    src: ADDR.client4, dst: ADDR.server4, protocol: 'tcp', sport: localPort, dport: 5001, tcpFlags: 0x18, tcpSeq: 0x12345678, payload: MAGIC,
  };
  await forge('server', injected, 5);
  // The mirror case: the server's tuple arriving on the trust interface.
  await forge('client', { ...injected, src: ADDR.server4, dst: ADDR.client4, sport: 5001, dport: localPort }, 5);
  const dropped = await reaches(async () => drop(await counters(), 'session_wrong_interface') - drop(before, 'session_wrong_interface'), 10);
  t.equal(dropped, 10, 'all ten forged segments dropped and counted as session_wrong_interface');
  await marker(4, ADDR.server4); // its request marks the server's capture, its reply the client's
  t.equal(await atServer.done, 0, 'none reached the server');
  t.equal(await atClient.done, 0, 'none reached the client');

  const end = JSON.parse(await trickle.exited) as { ok: boolean; received?: number };
  t.same(end, { ok: true, received: 60 * 1000 }, 'the real connection completes unharmed');
  const after = await counters();
  t.equal(after.xdp.dropWrongInterface?.packets, (before.xdp.dropWrongInterface?.packets ?? 0) + 10, 'show counters lists the XDP counter');
  const metrics = await topo.exec('fw', 'curl', ['-s', 'http://127.0.0.1:9420/metrics']);
  t.match(metrics.stdout, /xdpfw_drops_total\{stage="xdp",reason="drop_wrong_interface"\} 1\d*/, 'metrics count them');
});

t.test('ICMPv6 ND and MLD to a host behind the firewall do not reach it; ND with the firewall still works', async (t) => {
  const before = await counters();
  const atServer = await capture('server', ADDR.server6);
  const payload = Buffer.concat([MAGIC, Buffer.alloc(400 - MAGIC.length, 0x5a)]);
  for (const type of [130, 134, 135, 137]) {
    await forge('client', { src: ADDR.client6, dst: ADDR.server6, protocol: 'icmp6', icmpType: type, ttl: 64, payload }, 1);
  }
  const dropped = await reaches(async () =>
    drop(await counters(), 'neighbor_discovery_not_for_box') - drop(before, 'neighbor_discovery_not_for_box'), 4);
  t.equal(dropped, 4, 'all four dropped in XDP and counted');
  await marker(6, ADDR.server6);
  t.equal(await atServer.done, 0, 'none reached the server');

  // Forget every neighbour: the next ping needs neighbour discovery on both links.
  await topo.sh('client', 'ip -6 neigh flush all');
  await topo.sh('fw', 'ip -6 neigh flush all');
  await topo.sh('server', 'ip -6 neigh flush all');
  const passed = (await counters()).xdp.passNeighbor?.packets ?? 0;
  const ping = await topo.exec('client', 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '5', ADDR.server6]);
  t.equal(ping.code, 0, `ping6 through the firewall works after neighbour discovery (${ping.stdout.trim().split('\n').at(-2) ?? ''})`);
  t.ok(((await counters()).xdp.passNeighbor?.packets ?? 0) > passed, 'the neighbour discovery went to the kernel');
});

t.test('non-IP EtherTypes are dropped and counted unless configured to pass', async (t) => {
  const lldp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x88, 0xcc]), MAGIC, Buffer.alloc(30)]);
  const pppoe = Buffer.from(lldp);
  pppoe.writeUInt16BE(0x8863, 12);
  const send = async (f: Buffer, count: number) => {
    Buffer.from(macs['fw:trust0']!.replace(/:/g, ''), 'hex').copy(f, 0);
    Buffer.from(macs['client:eth0']!.replace(/:/g, ''), 'hex').copy(f, 6);
    await topo.traffic('client', ['raw-send', '--iface', 'eth0', '--frame', f.toString('hex'), '--count', String(count)]);
  };
  let before = await counters();
  await send(lldp, 2);
  await send(pppoe, 3);
  t.equal(await reaches(async () => drop(await counters(), 'non_ip_ethertype') - drop(before, 'non_ip_ethertype'), 5), 5, 'LLDP and PPPoE dropped and counted');

  const bad = topo.writeConfig(basicConfig('security { forwarding-options { pass-ethertype [ lldp 0x0800 ]; } }'));
  const check = await topo.xdpfw(['check', '-c', bad]);
  t.not(check.code, 0, 'IPv4 cannot be listed');
  t.match(check.stderr + check.stdout, /xdpfw\.conf:\d+:\d+: EtherType '0x0800' cannot be passed: IPv4 is judged by the firewall/, 'the error names file:line:column');
  const reload = await topo.xdpfw(['reload', '-c', topo.writeConfig(basicConfig('security { forwarding-options { pass-ethertype lldp; } }'))]);
  t.equal(reload.code, 0, `reload listing LLDP (${reload.stderr.trim()})`);
  before = await counters();
  await send(lldp, 2);
  await send(pppoe, 1);
  t.equal(await reaches(async () => ((await counters()).xdp.passNonIp?.packets ?? 0) - (before.xdp.passNonIp?.packets ?? 0), 2), 2, 'LLDP now goes to the kernel');
  t.equal(await reaches(async () => drop(await counters(), 'non_ip_ethertype') - drop(before, 'non_ip_ethertype'), 1), 1, 'PPPoE still dropped');
  const back = await topo.xdpfw(['reload', '-c', topo.writeConfig(basicConfig())]);
  t.equal(back.code, 0);
});

t.test('ip spoofing: a source whose route leaves by another interface is dropped, logged and counted', async (t) => {
  const conf = basicConfig('security { screen { ids-option spoof { ip { spoofing; } } } }')
    .replace('security-zone trust { interfaces { trust0; }', 'security-zone trust { interfaces { trust0; } screen spoof;');
  const reload = await topo.xdpfw(['reload', '-c', topo.writeConfig(conf)]);
  t.equal(reload.code, 0, `reload with the screen (${reload.stderr.trim()})`);
  const trust = async () => (await topo.xdpfwJson<ScreenStatsReport>(['show', 'screen', 'statistics', '--zone', 'trust'])).zones[0]!.screens['ip-spoofing'];
  const drops0 = (await trust())?.drops ?? 0;
  const atServer = await capture('server', ADDR.server4);
  // From the client's link, a source of the server's network, then one with no route at all.
  await forge('client', { src: '10.2.0.99', dst: ADDR.server4, protocol: 'udp', sport: 7000, dport: 5002, payload: MAGIC }, 3);
  await forge('client', { src: '198.51.100.7', dst: ADDR.server4, protocol: 'udp', sport: 7000, dport: 5002, payload: MAGIC }, 2);
  t.equal(await reaches(async () => ((await trust())?.drops ?? 0) - drops0, 5), 5, 'five ip-spoofing drops in the trust zone');
  await marker(4, ADDR.server4);
  t.equal(await atServer.done, 0, 'none reached the server');
  const log = await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'screen-drop']);
  t.ok(log.some((e) => e.attackName === 'IP spoofing!' && e.sourceAddress === '10.2.0.99' && e.sourceZone === 'trust'), 'logged as IP spoofing!');
  const udp = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', '3']);
  t.equal(udp.received, 3, 'the client\'s own traffic passes the screen');
  const udp6 = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server6, '--port', '5002', '--count', '3']);
  t.equal(udp6.received, 3, 'IPv6 too');
});
