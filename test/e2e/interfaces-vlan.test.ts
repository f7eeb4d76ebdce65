// Junos interface names through an interface map, and a trunk whose VLAN
// units are zones of their own, on a kernel without 802.1Q devices: client's
// VLAN 100 (zone v100) and far's VLAN 200 (zone v200) share the firewall's
// trunk0 as an 802.1Q trunk; untrust0 is ge-0/0/1.0. The far side of the
// trunk tags and untags with a test-only XDP program (bpf/test/vlan_peer.bpf.c):
// lan0 (ifindex 3000) is the client's end of the trunk, and VLAN V's host sits
// behind a veth pair whose inner end has ifindex 3000 + V. Real traffic
// through the real daemon, which makes the units' devices itself.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/util/paths.js';
import { ADDR, Topology } from '../helpers/topology.js';

const V100 = { client: '10.100.0.2', fw: '10.100.0.1' };
const V200 = { far: '10.200.0.2', fw: '10.200.0.1' };
const V300 = { client: '10.30.0.2', fw: '10.30.0.1' };
const UNTAGGED = { client: '10.99.0.2', fw: '10.99.0.1' };
const PEER_OBJ = resolve(packageRoot, 'dist', 'bpf', 'test', 'vlan_peer.bpf.o');
const PASS_OBJ = resolve(packageRoot, 'dist', 'bpf', 'xdp_pass.bpf.o');
const OFFLOADS_OFF = 'tx off tso off gso off gro off';

const CONFIG = (extraZone = '') => `
interfaces {
    ge-0/0/0 {
        vlan-tagging;
        unit 100 { vlan-id 100; family inet { address ${V100.fw}/24; } }
        unit 200 { vlan-id 200; family inet { address ${V200.fw}/24; } }
    }
    ge-0/0/1 { unit 0 { family inet { address ${ADDR.fwUntrust4}/24; } } }
}
security {
    zones {
        security-zone v100 { interfaces { ge-0/0/0.100; } host-inbound-traffic { system-services { ping; } } }
        security-zone v200 { interfaces { ge-0/0/0.200; } }
        security-zone untrust { interfaces { ge-0/0/1.0; } }${extraZone}
    }
    policies {
        from-zone v100 to-zone v200 {
            policy v100-to-v200 { match { source-address any; destination-address any; application any; } then { permit; } }
        }
        from-zone v200 to-zone v100 {
            policy v200-to-v100 { match { source-address any; destination-address any; application any; } then { deny; log { session-init; } } }
        }
        from-zone v100 to-zone untrust {
            policy v100-out { match { source-address any; destination-address any; application any; } then { permit; } }
        }
        default-policy { deny-all; }
    }
}
`;

interface TcpResult { ok: boolean; received?: number; error?: string }
interface Status { pid: number; interfaces: Array<{ name: string; zone: string | null; xdpMode: string }> }
interface Counters { drops: Record<string, number>; xdp: Record<string, { packets: number } | undefined> }
interface SessionJson { fromZone: string; toZone: string; policy: string }
interface EventJson { tag: string; kind: string; policy?: string | null; sourceZone: string | null; destinationZone?: string | null; ingressInterface: string | null; destinationPort?: number }
interface IpLink { ifname: string; ifindex: number; linkinfo?: { info_kind?: string }; xdp?: unknown; link?: string }
interface IpAddr { addr_info?: Array<{ local: string; prefixlen: number }> }

let topo: Topology;

/** A VLAN's host on the client's side of the trunk: veth pair c<V> (ifindex 3000 + V, tags) - v<V> (the host's). */
async function peerVlan(vlan: number, address: string, gateway: string | null, ns: 'client' | 'far'): Promise<void> {
  const c = `c${vlan}`;
  const v = `v${vlan}`;
  await topo.sh('client', `ip link add ${c} index ${3000 + vlan} type veth peer name ${v}` +
    ` && ip link set dev ${c} xdpdrv obj ${PEER_OBJ} program vlan_peer_unit && ethtool -K ${c} ${OFFLOADS_OFF} && ip link set ${c} up`);
  if (ns === 'far') await topo.sh('client', `ip link set ${v} netns ${topo.ns.far}`);
  await topo.sh(ns, [
    `ethtool -K ${v} ${OFFLOADS_OFF}`, `ip link set dev ${v} xdpdrv obj ${PASS_OBJ} sec xdp.frags`,
    `ip addr add ${address}/24 dev ${v}`, `ip link set ${v} up`, ...(gateway ? [`ip route replace default via ${gateway} dev ${v}`] : []),
  ].join(' && '));
}

t.before(async () => {
  topo = await Topology.create();
  // The trunk: the client's lan0 (ifindex 3000) to the firewall's trunk0.
  execFileSync('ip', ['link', 'add', 'lan0', 'index', '3000', 'netns', topo.ns.client, 'type', 'veth', 'peer', 'name', 'trunk0', 'netns', topo.ns.fw]);
  await topo.sh('fw', `ethtool -K trunk0 ${OFFLOADS_OFF} && ip link set trunk0 up`);
  await topo.sh('client', `ethtool -K lan0 ${OFFLOADS_OFF} && ip link set dev lan0 xdpdrv obj ${PEER_OBJ} program vlan_peer_trunk` +
    ` && ip addr add ${UNTAGGED.client}/24 dev lan0 && ip link set lan0 up`);
  execFileSync('ip', ['netns', 'add', topo.ns.far]);
  await topo.sh('far', 'ip link set lo up');
  await peerVlan(100, V100.client, V100.fw, 'client');
  await peerVlan(300, V300.client, null, 'client');
  // VLAN 200 lives in a namespace of its own (far), so client and far talk only through the firewall.
  await peerVlan(200, V200.far, V200.fw, 'far');
  await topo.startTraffic('far', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('far', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('client', ['tcp-sink', '--port', '5003']);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
});

t.teardown(async () => topo?.destroy());

const mapFile = () => {
  const path = join(topo.stateDir, 'interfaces.map');
  writeFileSync(path, '# this box\nge-0/0/0 trunk0\nge-0/0/1 untrust0\n');
  return path;
};

const send = (from: 'client' | 'far' | 'server', host: string, port: number, sport?: number) =>
  topo.traffic<TcpResult>(from, ['tcp-send', '--host', host, '--port', String(port), '--bytes', '1000', '--timeout', '3000',
    ...(sport ? ['--sport', String(sport)] : [])]);
const counters = () => topo.xdpfwJson<Counters>(['show', 'counters']);
const xdp = (c: Counters, name: string) => c.xdp[name]?.packets ?? 0;
async function killDaemon(): Promise<void> {
  const { pid } = await topo.xdpfwJson<Status>(['status']);
  process.kill(pid, 'SIGKILL');
  await new Promise<void>((done) => {
    const poll = () => { try { process.kill(pid, 0); setTimeout(poll, 100); } catch { done(); } };
    poll();
  });
}
const fwLinks = async (): Promise<IpLink[]> => JSON.parse(await topo.sh('fw', 'ip -j -d link show')) as IpLink[];

t.test('a config naming ge-0/0/0.100 loads with an interface map, each VLAN unit its own zone on a device xdpfw made', async (t) => {
  t.notOk((await fwLinks()).some((l) => l.ifname.startsWith('trunk0.')), 'no unit device before the load');
  const conf = topo.writeConfig(CONFIG());
  const check = await topo.xdpfw(['check', '-c', conf]);
  t.match(check.stderr, /interface 'ge-0\/0\/1\.0' is not mapped to a Linux interface/, 'without the map, check names the unmapped interface');
  t.equal((await topo.xdpfw(['check', '-c', conf, '--interface-map', mapFile()])).code, 0, 'with it, check succeeds');
  const load = await topo.xdpfw(['load', '-c', conf, '--interface-map', mapFile()]);
  t.equal(load.code, 0, load.stderr);
  const status = await topo.xdpfwJson<Status>(['status']);
  const modes = Object.fromEntries(status.interfaces.map((i) => [i.name, [i.zone, i.xdpMode]]));
  t.same(modes, {
    'trunk0.100': ['v100', 'native'], 'trunk0.200': ['v200', 'native'], untrust0: ['untrust', 'native'], trunk0: [null, 'native'],
  }, 'units on their own devices in native XDP, the trunk in no zone');
  const links = await fwLinks();
  for (const unit of ['trunk0.100', 'trunk0.200']) {
    const l = links.find((x) => x.ifname === unit);
    t.equal(l?.linkinfo?.info_kind, 'veth', `${unit} is a veth xdpfw made`);
    t.ok(links.find((x) => x.ifname === l?.link)?.xdp, `its internal peer ${l?.link} runs XDP (xdpfw_vlan_tx)`);
  }
  const addr = JSON.parse(await topo.sh('fw', 'ip -j -4 addr show dev trunk0.100')) as IpAddr[];
  t.same(addr.flatMap((a) => a.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`), [`${V100.fw}/24`], "the unit's address from the config");
});

t.test("ping to the unit's own address (host-inbound ping in v100)", async (t) => {
  const ok = await topo.exec('client', 'ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '2', V100.fw]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
});

t.test('v100 -> v200 is permitted, v200 -> v100 denied, on one trunk', async (t) => {
  const out = await send('client', V200.far, 5001);
  t.match(out, { ok: true, received: 1000 }, 'client (VLAN 100) reaches far (VLAN 200)');
  const back = await send('far', V100.client, 5003, 41234);
  t.equal(back.ok, false, 'far (VLAN 200) cannot reach client (VLAN 100): no policy from v200 to v100');
  const sessions = await topo.xdpfwJson<SessionJson[]>(['show', 'sessions']);
  t.notOk(sessions.some((s) => s.fromZone === 'v200'), 'no session from v200');
  const c = await counters();
  t.ok((c.drops.policy_deny ?? 0) >= 1, 'the denied SYN is counted as a policy deny');
  const events = (await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'policy-deny'])).filter((e) => e.destinationPort === 5003);
  t.ok(events.length >= 1, `a deny event: ${JSON.stringify(events)}`);
  t.match(events[0], { tag: 'RT_FLOW_SESSION_DENY', sourceZone: 'v200', destinationZone: 'v100', ingressInterface: 'trunk0.200', policy: 'v200-to-v100' },
    'RT_FLOW_SESSION_DENY names the unit it came in by and the unit zones');
});

t.test('established traffic between units is forwarded in XDP: one slow-path packet per flow', async (t) => {
  const before = await counters();
  const echo = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', V200.far, '--port', '5002', '--sport', '42002', '--count', '20', '--timeout', '2000']);
  t.equal(echo.received, 20, 'UDP from VLAN 100 to VLAN 200 and its replies');
  const after = await counters();
  t.equal(xdp(after, 'slowPath') - xdp(before, 'slowPath'), 1, 'the slow path saw the first packet only');
  t.ok(xdp(after, 'fastForward') - xdp(before, 'fastForward') >= 39, `the other 39 forwarded in XDP (${xdp(before, 'fastForward')} -> ${xdp(after, 'fastForward')})`);
  t.ok(xdp(after, 'vlanToUnit') - xdp(before, 'vlanToUnit') >= 40, 'all 40 came in tagged, untagged in XDP');
  t.ok(xdp(after, 'vlanFromUnit') - xdp(before, 'vlanFromUnit') >= 40, 'all 40 left tagged by XDP');
  const sessions = await topo.xdpfwJson<SessionJson[]>(['show', 'sessions']);
  t.ok(sessions.some((s) => s.fromZone === 'v100' && s.toZone === 'v200' && s.policy === 'v100-to-v200'), `the session is v100 -> v200: ${JSON.stringify(sessions)}`);
});

t.test('ge-0/0/1.0 forwards: VLAN 100 to the untrust side', async (t) => {
  t.match(await send('client', ADDR.server4, 5001), { ok: true, received: 1000 });
});

t.test('a VLAN no unit owns, and untagged frames, are dropped and counted on the trunk', async (t) => {
  const before = (await counters()).drops.vlan_no_unit ?? 0;
  const r300 = await topo.exec('client', 'ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '1', V300.fw]);
  t.not(r300.code, 0, 'VLAN 300 gets no answer');
  const mid = (await counters()).drops.vlan_no_unit ?? 0;
  t.ok(mid >= before + 2, `VLAN 300 counted as vlan_no_unit (${before} -> ${mid})`);
  const untagged = await topo.exec('client', 'ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '1', '-I', 'lan0', UNTAGGED.fw]);
  t.not(untagged.code, 0, 'untagged gets no answer');
  const after = (await counters()).drops.vlan_no_unit ?? 0;
  t.ok(after >= mid + 2, `untagged counted as vlan_no_unit (${mid} -> ${after})`);
});

t.test('an unmapped interface in a zone: reload refused at its statement, the running config stays', async (t) => {
  const conf = topo.writeConfig(CONFIG('\n        security-zone dmz { interfaces { ge-0/0/5.0; } }'));
  const r = await topo.xdpfw(['reload', '-c', conf]);
  t.not(r.code, 0);
  t.match(r.stderr, new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:15:42: interface 'ge-0/0/5\\.0' is not mapped to a Linux interface: add a line 'ge-0/0/5 <linux-interface>' to the interface map`));
  t.match(r.stderr, /the running one stays/);
  t.match(await send('client', V200.far, 5001), { ok: true, received: 1000 }, 'still forwarding by the running config');
  t.equal((await send('far', V100.client, 5003)).ok, false, 'and still denying');
});

t.test('a reload without unit 200: its device goes, VLAN 200 drops', async (t) => {
  const conf = topo.writeConfig(CONFIG().replace(/\n\s*unit 200 \{[^\n]*\n/, '\n').replace(/security-zone v200 \{[^\n]*\n/, '')
    .replace(/from-zone (v100 to-zone v200|v200 to-zone v100) \{\n[^\n]*\n\s*\}\n/g, ''));
  const r = await topo.xdpfw(['reload', '-c', conf]);
  t.equal(r.code, 0, r.stderr);
  t.notOk((await fwLinks()).some((l) => l.ifname === 'trunk0.200'), 'trunk0.200 removed with its unit');
  const before = (await counters()).drops.vlan_no_unit ?? 0;
  t.equal((await send('far', V100.client, 5003)).ok, false, 'VLAN 200 reaches nothing');
  t.ok(((await counters()).drops.vlan_no_unit ?? 0) > before, 'its frames are vlan_no_unit drops');
});

t.test('a daemon killed with SIGKILL leaves its units filtering (fail closed), the next one takes them over; unload removes them', async (t) => {
  const reload = await topo.xdpfw(['reload', '-c', topo.writeConfig(CONFIG())]);
  t.equal(reload.code, 0, reload.stderr);
  t.match(await send('client', V200.far, 5001), { ok: true, received: 1000 }, 'unit 200 made again: forwarding again');
  await killDaemon();
  const links = await fwLinks();
  for (const unit of ['trunk0.100', 'trunk0.200']) t.ok(links.find((l) => l.ifname === unit)?.xdp, `${unit} stays, its XDP attached`);
  t.ok(links.find((l) => l.ifname === 'trunk0')?.xdp, 'the trunk keeps its XDP');
  t.equal((await send('client', V200.far, 5001)).ok, false, 'a new flow finds no slow path: dropped');
  t.equal((await topo.exec('client', 'ping', ['-4', '-n', '-c', '1', '-W', '1', V300.fw])).code, 1, 'VLAN 300 still dropped');
  const load = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG()), '--interface-map', mapFile()]);
  t.equal(load.code, 0, load.stderr);
  const again = await fwLinks();
  t.same(['trunk0.100', 'trunk0.200'].map((n) => again.find((l) => l.ifname === n)?.ifindex), ['trunk0.100', 'trunk0.200'].map((n) => links.find((l) => l.ifname === n)?.ifindex),
    'the next daemon takes the unit devices over as they are');
  t.match(await send('client', V200.far, 5001), { ok: true, received: 1000 }, 'and forwards between them');
  await killDaemon();
  const unload = await topo.xdpfw(['unload']);
  t.equal(unload.code, 0, unload.stderr);
  t.match(unload.stdout, /removed leftover unit devices: .*trunk0\.100/);
  t.notOk((await fwLinks()).some((l) => l.ifname.startsWith('trunk0.') || l.ifname.startsWith('xv')), 'no unit device left');
});
