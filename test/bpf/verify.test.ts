// The compiled XDP object under BPF_PROG_RUN: sessions bound to their ingress
// interface, a route that moved handed to the slow path, IPv6 ND/MLD passed
// only to the box, non-IP EtherTypes dropped unless listed, and the
// `ip spoofing` screen's reverse-path check. Its own namespace:
//   in0 (10.8.0.1/24, fd08::1/64, zone untrust)   out0 (10.9.0.1/24, fd09::1/64, zone trust)
//   10.10.0.0/24 routes to a gateway on out0 with no neighbour yet; no default route.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS, 'ip route add 10.10.0.0/24 via 10.9.0.3']);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const { sessionEntry, sessionKey } = await import('../helpers/session-entry.js');
const { ENTRY } = await import('../../lib/session/entry.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { compileText } = await import('../../lib/config/compile.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { screenStatsReport } = await import('../../lib/screens/stats.js');
const { EventCodec, readEventConstants, realtimeOffsetNs } = await import('../../lib/events/record.js');
const { passedEthertypes, writePassEthertypes } = await import('../../lib/verify/ethertypes.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_PASS, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const IN = native.ifNameToIndex('in0');
const OUT = native.ifNameToIndex('out0');
const UNTRUST = 1;
const TRUST = 2;
dp.registerPort(IN, 0, UNTRUST);
dp.registerPort(OUT, 1, TRUST);
const xsk = new native.Xsk({ ifindex: IN, ifname: 'in0', queue: 0 });
dp.registerSocket(0, 0, xsk.fd);
const xskOut = new native.Xsk({ ifindex: OUT, ifname: 'out0', queue: 0 });
dp.registerSocket(1, 0, xskOut.fd);
const codec = new EventCodec(readEventConstants(dp.objectPath));
const records: Buffer[] = [];
const ring = new native.RingBuffer(dp.mapFd('xdpfw_events'), (batch) => records.push(...batch));
t.teardown(() => {
  ring.close();
  xsk.close();
  xskOut.close();
  dp.close();
  purgePins(paths);
});

/** Verdict and counter deltas (packets) of one run of `data` through `prog`, arriving on `ifindex`. */
function run(data: Buffer, prog = dp.progs.rx, ifindex = IN): { retval: number; counters: Record<string, number> } {
  const before = dp.readCounters();
  const r = native.progTestRun(prog, { data, ifindex, rxQueue: 0, dataOutSize: data.length + 64 });
  const counters: Record<string, number> = {};
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) counters[name] = d;
  }
  return { retval: r.retval, counters };
}

function keyOf(spec: FrameSpec): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[SESSION_KEY.offset.family] = spec.src.includes(':') ? 10 : 2;
  k[SESSION_KEY.offset.protocol] = spec.protocol === 'tcp' ? 6 : 17;
  k.writeUInt16BE(spec.sport ?? 1234, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(spec.dport ?? 80, SESSION_KEY.offset.dst_port);
  ipBytes(spec.src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

/** One direction's entry, bound to `ingress` and judged for leaving by `egress`. */
function install(spec: FrameSpec, ingress: number, egress: number): void {
  const v = sessionEntry(dp.objectPath, { client: keyOf(spec), sessionId: 9n, ingress, egress, tcp: spec.protocol === 'tcp' });
  native.mapUpdate(dp.mapFd('xdpfw_sessions'), sessionKey(keyOf(spec)), v, 0);
}

function sessionPackets(spec: FrameSpec): bigint {
  const v = Buffer.alloc(SESSION.size);
  if (!native.mapLookup(dp.mapFd('xdpfw_sessions'), sessionKey(keyOf(spec)), v)) throw new Error('no session');
  return v.readBigUInt64LE(ENTRY.packets(0));
}

const ACK = 0x10;
const tcp4: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'tcp', sport: 40000, dport: 443, tcpFlags: ACK };

t.test('a session direction is used only by packets arriving on its interface', async (t) => {
  install(tcp4, IN, OUT);
  t.same(run(frame(tcp4)), { retval: XDP_REDIRECT, counters: { FAST_FORWARD: 1 } }, 'on in0, where it is bound: forwarded');
  // The same tuple arriving on out0 (forged from the other side): dropped, never a new flow.
  for (const flags of [ACK, 0x02, 0x04, 0x11]) {
    t.same(run(frame({ ...tcp4, tcpFlags: flags }), dp.progs.rx, OUT), { retval: XDP_DROP, counters: { DROP_WRONG_INTERFACE: 1 } },
      `flags 0x${flags.toString(16)} on out0: dropped and counted, not sent to the slow path`);
  }
  t.same(run(frame(tcp4), dp.progs.inject, OUT), { retval: XDP_DROP, counters: { DROP_WRONG_INTERFACE: 1 } }, 're-injection checks it too');
  const v6: FrameSpec = { src: 'fd09::2', dst: 'fd08::2', protocol: 'udp', sport: 53, dport: 5353 };
  install(v6, OUT, IN);
  t.same(run(frame(v6)), { retval: XDP_DROP, counters: { DROP_WRONG_INTERFACE: 1 } }, 'IPv6, the mirror case: a reply tuple arriving on the client side');
});

t.test('a session whose route now leaves by another interface goes to the slow path to be judged again', async (t) => {
  const spec: FrameSpec = { ...tcp4, sport: 40001 };
  install(spec, IN, IN); // judged for leaving by in0; the route now says out0
  t.same(run(frame(spec)), { retval: XDP_REDIRECT, counters: { SESSION_REROUTED: 1 } }, 'handed up, counted');
  t.equal(sessionPackets(spec), 0n, 'not counted on the session: it is counted once, when it goes on');
  t.same(run(frame(spec), dp.progs.inject), { retval: XDP_DROP, counters: { DROP_REROUTED: 1 } },
    're-injected while the route still disagrees: dropped, never forwarded unchecked');
  const unresolved: FrameSpec = { ...spec, dst: '10.10.0.7' };
  install(unresolved, IN, IN);
  t.same(run(frame(unresolved)), { retval: XDP_REDIRECT, counters: { SESSION_REROUTED: 1 } }, 'also when the new next hop is not resolved yet');
  install(spec, IN, OUT); // the slow path moved it
  t.same(run(frame(spec), dp.progs.inject), { retval: XDP_REDIRECT, counters: { INJECT_FORWARD: 1 } }, 'once moved, re-injected and forwarded');
  t.equal(sessionPackets(spec), 1n, 'counted once');
  install(unresolved, IN, OUT);
  t.same(run(frame(unresolved)), { retval: XDP_PASS, counters: { FAST_KERNEL: 1 } }, 'same egress, next hop unresolved: the kernel resolves it');
});

/** ICMPv6 of `type` from a neighbour on in0. */
function icmp6(type: number, dst: string, hopLimit: number, src = 'fe80::2'): Buffer {
  return frame({ src, dst, protocol: 'icmp6', icmpType: type, ttl: hopLimit, payload: Buffer.alloc(400, 0x41) });
}

t.test('ND and MLD reach the kernel only when addressed to the box, ND only with hop limit 255', async (t) => {
  const pass = { retval: XDP_PASS, counters: { PASS_NEIGHBOR: 1 } };
  const drop = { retval: XDP_DROP, counters: { DROP_NEIGHBOR: 1 } };
  t.same(run(icmp6(135, 'ff02::1:ff00:1', 255)), pass, 'NS to a solicited-node address');
  t.same(run(icmp6(135, 'fd08::1', 255, 'fd08::2')), pass, "NS to the box's own address");
  t.same(run(icmp6(136, 'fe80::1', 255)), pass, 'NA to a link-local address');
  t.same(run(icmp6(133, 'ff02::2', 255)), pass, 'RS to all-routers');
  t.same(run(icmp6(134, 'ff02::1', 255)), pass, 'RA to all-nodes');
  t.same(run(icmp6(143, 'ff02::16', 1)), pass, 'MLDv2 report');
  t.same(run(icmp6(130, 'ff02::1', 1)), pass, 'MLD query to all-nodes');
  for (const type of [130, 134, 135, 137]) {
    t.same(run(icmp6(type, 'fd09::2', 64, 'fd08::2')), drop, `type ${type}, hop limit 64, to a host behind the firewall`);
    t.same(run(icmp6(type, 'fd09::2', 255, 'fd08::2')), drop, `type ${type}, hop limit 255, to a host behind the firewall`);
  }
  t.same(run(icmp6(135, 'ff02::1:ff00:1', 64)), drop, 'NS with hop limit 64: not from this link');
  t.same(run(icmp6(137, 'fe80::1', 254)), drop, 'redirect with hop limit 254');
  t.same(run(icmp6(134, 'ff05::1', 255)), drop, 'RA to a site-scope group');
});

/** A frame of `ethertype` with 46 bytes of payload, optionally behind an 802.1Q tag. */
function ethernet(ethertype: number, vlan = false): Buffer {
  const f = Buffer.alloc(vlan ? 64 : 60);
  f.writeUInt16BE(0x88cc, 6); // some source MAC bytes
  if (vlan) {
    f.writeUInt16BE(0x8100, 12);
    f.writeUInt16BE(10, 14);
    f.writeUInt16BE(ethertype, 16);
  } else {
    f.writeUInt16BE(ethertype, 12);
  }
  return f;
}

t.test('non-IP EtherTypes other than ARP are dropped and counted unless configured to pass', async (t) => {
  const pass = { retval: XDP_PASS, counters: { PASS_NON_IP: 1 } };
  const drop = { retval: XDP_DROP, counters: { DROP_NON_IP: 1 } };
  writePassEthertypes(dp, []);
  t.same(run(ethernet(0x0806)), pass, 'ARP');
  t.same(run(ethernet(0x0806, true)), pass, 'tagged ARP');
  for (const type of [0x8863, 0x8864, 0x8847, 0x88cc, 0x88b5]) t.same(run(ethernet(type)), drop, `0x${type.toString(16)}`);
  t.same(run(ethernet(0x8863, true)), drop, 'tagged PPPoE');

  const c = compileText('security { forwarding-options { pass-ethertype [ lldp 0x8863 ]; } }', 'e.conf');
  if (!c.ok) throw new Error(c.errors.join('\n'));
  writePassEthertypes(dp, c.config.passEthertypes);
  t.same(passedEthertypes(dp), [0x8863, 0x88cc], 'the table holds the configured ones');
  t.same(run(ethernet(0x88cc)), pass, 'LLDP, configured');
  t.same(run(ethernet(0x8863)), pass, 'PPPoE discovery, configured');
  t.same(run(ethernet(0x8864)), drop, 'PPPoE session, not configured');
  writePassEthertypes(dp, [0x8863]);
  t.same(run(ethernet(0x88cc)), drop, 'a list without LLDP stops passing it');
  writePassEthertypes(dp, []);
});

/** Applies a profile with `ip spoofing` to untrust (in0). */
function useSpoofing(alarm: boolean): void {
  const r = compileText(`security {
    zones { security-zone untrust { interfaces { in0; } screen S; } security-zone trust { interfaces { out0; } } }
    screen { ids-option S { ${alarm ? 'alarm-without-drop; ' : ''}ip { spoofing; } } }
  }`, 'spoof.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  applyScreens(dp, r.config);
  records.push(...ring.consume());
  records.length = 0;
  lastConfig = r.config;
}
let lastConfig: import('../../lib/config/types.js').CompiledConfig | null = null;

function spoofCounts(): { drops: number; alarms: number } {
  const s = screenStatsReport(dp, lastConfig!, null, 'untrust').zones[0]!.screens['ip-spoofing'];
  return { drops: s?.drops ?? 0, alarms: s?.alarms ?? 0 };
}

function events() {
  records.push(...ring.consume());
  const offset = realtimeOffsetNs();
  return records.splice(0).map((r) => codec.decode(r, offset));
}

t.test('ip spoofing: the route back to the source must leave by the ingress interface', async (t) => {
  useSpoofing(false);
  const udp = (src: string, dst: string): Buffer => frame({ src, dst, protocol: 'udp', sport: 5000, dport: 53 });
  const screened = { retval: XDP_DROP, counters: { DROP_SCREEN: 1 } };
  t.same(run(udp('10.8.0.2', '10.9.0.2')), { retval: XDP_REDIRECT, counters: { SLOW_PATH: 1 } }, 'a source on in0: goes on');
  t.same(run(udp('fd08::2', 'fd09::2')), { retval: XDP_REDIRECT, counters: { SLOW_PATH: 1 } }, 'IPv6 source on in0: goes on');
  t.same(run(udp('fe80::2', 'fd08::1')), { retval: XDP_REDIRECT, counters: { SLOW_PATH: 1 } }, 'a link-local source is not looked up');
  const before = spoofCounts();
  t.same(run(udp('10.9.0.7', '10.8.0.2')), screened, "a source routed by out0 arriving on in0");
  t.same(run(udp('fd09::7', 'fd08::2')), screened, 'the same for IPv6');
  t.same(run(udp('192.0.2.1', '10.9.0.2')), screened, 'a source with no route back');
  t.same(run(udp('10.8.0.1', '10.9.0.2')), screened, "the box's own address as source");
  t.same(run(frame({ ...tcp4, src: '10.10.0.9', tcpFlags: 0x02 })), screened, 'a source routed to an unresolved gateway on out0');
  t.same(spoofCounts(), { drops: before.drops + 5, alarms: before.alarms }, 'counted as ip-spoofing drops of the zone');
  const evs = events();
  t.equal(evs.length, 5, 'one event each');
  t.match(evs[0], { kind: 'screen-drop', screen: 'ip-spoofing', action: 'drop', ingressZone: UNTRUST, sourceAddress: '10.9.0.7' });
  t.same(run(udp('10.9.0.7', '10.8.0.2'), dp.progs.rx, OUT), { retval: XDP_REDIRECT, counters: { SLOW_PATH: 1 } },
    'the same source on out0, where its route leaves: not screened (out0 has no profile)');

  useSpoofing(true);
  t.same(run(udp('10.9.0.7', '10.8.0.2')), { retval: XDP_REDIRECT, counters: { SLOW_PATH: 1 } }, 'alarm-without-drop: the packet goes on');
  t.same(spoofCounts(), { drops: before.drops + 5, alarms: before.alarms + 1 }, 'counted as an alarm');
  t.match(events(), [{ kind: 'screen-drop', screen: 'ip-spoofing', action: 'alarm' }]);
});
