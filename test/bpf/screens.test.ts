// The screens (bpf/screens.h) in the compiled xdpfw_rx under BPF_PROG_RUN:
// every check with a packet that trips it and a near miss, IPv4 and IPv6,
// fragments; the rate checks driven by controlled packet sequences (below
// the threshold passes, above drops, the window resets, one count shared by
// several CPUs); SCREEN_DROP events read back from the ring buffer and
// decoded; alarm-without-drop; the per-second event budget. Profiles are
// compiled from configuration text and written by applyScreens, as the
// daemon does. Runs in its own network namespace (in0: the ingress port).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

reexecInNetns(import.meta.url, [
  'ip link add name in0 type veth peer name in0p',
  'for d in in0 in0p lo; do ip link set $d up; done',
]);

const { spawn } = await import('node:child_process');
const { fileURLToPath } = await import('node:url');
const { default: t } = await import('tap');
const { compileText } = await import('../../lib/config/compile.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { EventCodec, readEventConstants, realtimeOffsetNs } = await import('../../lib/events/record.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { formatScreenStats, screenStatsReport } = await import('../../lib/screens/stats.js');
const { frame } = await import('../helpers/packets.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;
type ScreenKey = import('../../lib/screens/screen-ids.js').ScreenKey;
type ScreenDropEvent = import('../../lib/events/types.js').ScreenDropEvent;
type Test = import('tap').Test;

const FIN = 0x01;
const SYN = 0x02;
const ACK = 0x10;
const URG = 0x20;
const ZONE = 1;

t.ok(insideTestNetns(), 'runs in its own namespace');
const stateDir = `/tmp/${insideTestNetns()}`;
const paths = statePaths(stateDir);
const dp = new Dataplane(paths);
const IN = native.ifNameToIndex('in0');
dp.setInterfaceZone(IN, 0, ZONE);
const codec = new EventCodec(readEventConstants(dp.objectPath));
// The ring is polled as soon as it exists: records come through the callback
// while a test awaits, and through consume() otherwise.
const records: Buffer[] = [];
const ring = new native.RingBuffer(dp.mapFd('xdpfw_events'), (batch) => records.push(...batch));
t.teardown(() => {
  ring.close();
  dp.close();
  purgePins(paths);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let config = useProfile('');

/** Compiles a configuration whose zone (in0) has `ids-option S { body }` (beside `screen { lists }`) and applies it. */
function useProfile(body: string, lists = ''): ReturnType<typeof compiled> {
  const c = compiled(`security {
    zones { security-zone untrust { interfaces { in0; } screen S; } }
    screen { ${lists} ids-option S { ${body} } }
  }`);
  applyScreens(dp, c);
  drainEvents();
  return c;
}

function compiled(text: string) {
  const r = compileText(text, 'screens.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function drainEvents(): ScreenDropEvent[] {
  records.push(...ring.consume());
  const offset = realtimeOffsetNs();
  return records.splice(0).map((r) => {
    const ev = codec.decode(r, offset);
    if (ev.kind !== 'screen-drop') throw new Error(`unexpected ${ev.kind} event`);
    return ev;
  });
}

/** Verdict counters (packets) that moved, and the events written, for `runs` runs of `data`. */
function judge(data: Buffer, runs = 1): { counters: Record<string, number>; events: ScreenDropEvent[] } {
  const before = dp.readCounters();
  for (let i = 0; i < runs; i++) native.progTestRun(dp.progs.rx, { data, ifindex: IN, rxQueue: 0 });
  const counters: Record<string, number> = {};
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) counters[name] = d;
  }
  return { counters, events: drainEvents() };
}

/** Ports as the session key (and so the event) carries them: ICMP echo id for ICMP, none for later fragments. */
function ports(spec: FrameSpec): { sourcePort: number; destinationPort: number } {
  if (spec.fragmentOffset) return { sourcePort: 0, destinationPort: 0 };
  if (spec.protocol === 'icmp' || spec.protocol === 'icmp6') {
    const request = (spec.icmpType ?? (spec.protocol === 'icmp' ? 8 : 128)) === (spec.protocol === 'icmp' ? 8 : 128);
    return request ? { sourcePort: spec.icmpId ?? 0x4242, destinationPort: 0 } : { sourcePort: 0, destinationPort: spec.icmpId ?? 0x4242 };
  }
  return { sourcePort: spec.sport ?? 1234, destinationPort: spec.dport ?? (spec.protocol === 'udp' ? 53 : 80) };
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 };

/** The packet is dropped by `screen`, counted once, with one event carrying its tuple. */
function dropped(t: Test, spec: FrameSpec, screen: ScreenKey, msg: string, data = frame(spec)): void {
  const r = judge(data);
  t.same(r.counters, { DROP_SCREEN: 1 }, `${msg}: dropped by a screen`);
  t.equal(r.events.length, 1, `${msg}: one event`);
  const icmp = spec.protocol === 'icmp' || spec.protocol === 'icmp6';
  t.match(r.events[0], {
    kind: 'screen-drop',
    screen,
    action: 'drop',
    ingressZone: ZONE,
    ingressIfindex: IN,
    family: spec.src.includes(':') ? 'inet6' : 'inet',
    protocol: typeof spec.protocol === 'number' ? spec.protocol : PROTOCOLS[spec.protocol],
    sourceAddress: spec.src,
    destinationAddress: spec.dst,
    ...ports(spec),
    icmpType: icmp && !spec.fragmentOffset ? (spec.icmpType ?? (spec.protocol === 'icmp' ? 8 : 128)) : 0,
  }, `${msg}: the event names ${screen}, the zone, the interface and the tuple`);
}

/** Where a miss goes past the screens: a TCP packet that could not open a connection is
 * dropped by syn-check, anything else goes to the slow path (no socket here). */
function missVerdict(spec: FrameSpec): string {
  const flags = spec.tcpFlags ?? 0x10;
  return spec.protocol === 'tcp' && (flags & 0x17) !== 0x02 ? 'DROP_TCP_SYN_CHECK' : 'DROP_NO_SOCKET';
}

/**
 * The packet goes on past the screens: to `verdict` (a miss: see missVerdict, first fragments
 * included; later fragments: no first fragment was judged).
 */
function passed(t: Test, spec: FrameSpec, msg: string, verdict = missVerdict(spec), data = frame(spec)): void {
  const r = judge(data);
  t.same(r.counters, { [verdict]: 1 }, `${msg}: not screened`);
  t.same(r.events, [], `${msg}: no event`);
}

/** Waits for the start of a fresh window of `ms` (windows are aligned on CLOCK_MONOTONIC). */
async function freshWindow(ms: number): Promise<void> {
  const into = Number(native.monotonicNs() % BigInt(ms * 1e6)) / 1e6;
  await sleep(ms - into + 10); // past a tick: seconds come from the coarse clock
}

const V4 = { src: '10.8.0.2', dst: '10.9.0.2' };
const V6 = { src: 'fd08::2', dst: 'fd09::2' };

t.test('land: a SYN sent from the address it goes to', async (t) => {
  useProfile('tcp { land; }');
  for (const a of ['10.9.0.2', 'fd09::2']) {
    dropped(t, { src: a, dst: a, protocol: 'tcp', tcpFlags: SYN }, 'land', a);
    passed(t, { src: a, dst: a.includes(':') ? 'fd09::3' : '10.9.0.3', protocol: 'tcp', tcpFlags: SYN }, `${a}: another destination`);
    passed(t, { src: a, dst: a, protocol: 'tcp', tcpFlags: ACK }, `${a}: not a SYN`);
  }
});

t.test('TCP flag screens', async (t) => {
  const cases: Array<{ stanza: string; screen: ScreenKey; trips: Partial<FrameSpec>[]; misses: Partial<FrameSpec>[] }> = [
    { stanza: 'syn-fin', screen: 'tcp-syn-fin', trips: [{ tcpFlags: SYN | FIN }, { tcpFlags: SYN | FIN | ACK }], misses: [{ tcpFlags: SYN }] },
    { stanza: 'tcp-no-flag', screen: 'tcp-no-flag', trips: [{ tcpFlags: 0 }, { tcpFlags: 0xc0 }], misses: [{ tcpFlags: ACK }, { tcpFlags: 0x08 }] },
    { stanza: 'fin-no-ack', screen: 'tcp-fin-no-ack', trips: [{ tcpFlags: FIN }], misses: [{ tcpFlags: FIN | ACK }] },
    {
      stanza: 'winnuke',
      screen: 'winnuke',
      trips: [{ tcpFlags: URG | ACK, dport: 139 }],
      misses: [{ tcpFlags: ACK, dport: 139 }, { tcpFlags: URG | ACK, dport: 445 }],
    },
  ];
  for (const c of cases) {
    useProfile(`tcp { ${c.stanza}; }`);
    for (const family of [V4, V6]) {
      for (const trip of c.trips) dropped(t, { ...family, protocol: 'tcp', ...trip }, c.screen, `${c.stanza} ${JSON.stringify(trip)} ${family.src}`);
      for (const miss of c.misses) passed(t, { ...family, protocol: 'tcp', ...miss }, `${c.stanza} near miss ${JSON.stringify(miss)} ${family.src}`);
    }
  }
});

// RFC 791 options, padded to whole words.
const OPT = {
  lsrr: Buffer.from([131, 7, 4, 10, 9, 0, 3, 0]),
  ssrr: Buffer.from([137, 7, 4, 10, 9, 0, 3, 0]),
  rr: Buffer.from([7, 7, 4, 0, 0, 0, 0, 0]),
  ts: Buffer.from([68, 8, 5, 0, 0, 0, 0, 0]),
  sec: Buffer.from([130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  sid: Buffer.from([136, 4, 0, 1]),
};

t.test('IP option screens: each fires on its option only', async (t) => {
  const cases: Array<[string, ScreenKey, Buffer[], Buffer[]]> = [
    ['source-route-option', 'ip-source-route', [OPT.lsrr, OPT.ssrr], [OPT.rr]],
    ['loose-source-route-option', 'ip-loose-source-route', [OPT.lsrr], [OPT.ssrr]],
    ['strict-source-route-option', 'ip-strict-source-route', [OPT.ssrr], [OPT.lsrr]],
    ['record-route-option', 'ip-record-route', [OPT.rr], [OPT.ts]],
    ['timestamp-option', 'ip-timestamp', [OPT.ts], [OPT.rr]],
    ['security-option', 'ip-security', [OPT.sec], [OPT.sid]],
    ['stream-option', 'ip-stream', [OPT.sid], [OPT.sec]],
  ];
  for (const [stanza, screen, trips, misses] of cases) {
    useProfile(`ip { ${stanza}; }`);
    for (const o of trips) dropped(t, { ...V4, protocol: 'udp', ipOptions: o }, screen, `${stanza}: option ${o[0]}`);
    for (const o of misses) passed(t, { ...V4, protocol: 'udp', ipOptions: o }, `${stanza}: option ${o[0]}`);
    passed(t, { ...V4, protocol: 'udp', ipOptions: Buffer.from([1, 1, 1, 0]) }, `${stanza}: only no-operations`);
  }
  useProfile('ip { record-route-option; }');
  dropped(t, { ...V4, protocol: 'tcp', ipOptions: Buffer.concat([Buffer.from([1, 1, 1, 1]), OPT.rr]) }, 'ip-record-route', 'after no-operations');
  dropped(t, { ...V4, protocol: 'tcp', ipOptions: Buffer.concat([OPT.sid, OPT.ts, OPT.rr]) }, 'ip-record-route', 'after other options');
  passed(t, { ...V4, protocol: 'tcp', ipOptions: Buffer.from([68, 8, 5, 0, 7, 7, 4, 0]) }, 'a 7 inside another option is data, not an option');
  passed(t, { ...V4, protocol: 'tcp', ipOptions: Buffer.from([0, 7, 7, 4, 0, 0, 0, 0]) }, 'nothing after the end of the list counts');
});

t.test('IPv6: a type 0 routing header is a (loose) source route', async (t) => {
  const rh0 = frame({ ...V6, protocol: 'udp', ext: [43] }); // routing type byte left 0
  const rh2 = Buffer.from(rh0);
  rh2[14 + 40 + 2] = 2;
  for (const [stanza, screen] of [['source-route-option', 'ip-source-route'], ['loose-source-route-option', 'ip-loose-source-route']] as const) {
    useProfile(`ip { ${stanza}; }`);
    dropped(t, { ...V6, protocol: 'udp' }, screen, `${stanza}: routing header type 0`, rh0);
    passed(t, { ...V6, protocol: 'udp' }, `${stanza}: routing header type 2`, 'DROP_NO_SOCKET', rh2);
  }
});

/** An IPv4 frame cut to `l3Len` bytes of IP packet, its total length field saying so. */
function cutIpv4(data: Buffer, l3Len: number): Buffer {
  const out = Buffer.from(data.subarray(0, 14 + l3Len));
  out.writeUInt16BE(l3Len, 14 + 2);
  return out;
}

t.test('ping of death: an ICMP packet whose reassembled length would pass 65535', async (t) => {
  useProfile('icmp { ping-death; }');
  // IPv4: 20 header + 65480 offset + 8 ICMP + payload.
  const v4: FrameSpec = { ...V4, protocol: 'icmp', fragmentOffset: 8185 };
  dropped(t, { ...v4, payload: Buffer.alloc(28) }, 'ping-of-death', 'IPv4 ICMP, 65536 bytes');
  passed(t, { ...v4, payload: Buffer.alloc(27) }, 'IPv4 ICMP, exactly 65535', 'DROP_FRAGMENT_NO_FIRST');
  passed(t, { ...V4, protocol: 'udp', fragmentOffset: 8189, payload: Buffer.alloc(100) }, 'IPv4 UDP: not a ping', 'DROP_FRAGMENT_NO_FIRST');
  // IPv6: the payload length counts 65480 offset + 8 ICMPv6 + payload (no unfragmentable headers).
  const v6: FrameSpec = { ...V6, protocol: 'icmp6', ext: [44], fragmentOffset: 8185, moreFragments: false };
  dropped(t, { ...v6, payload: Buffer.alloc(48) }, 'ping-of-death', 'IPv6 ICMPv6, 65536 bytes of payload');
  passed(t, { ...v6, payload: Buffer.alloc(47) }, 'IPv6 ICMPv6, exactly 65535', 'DROP_FRAGMENT_NO_FIRST');
});

t.test('teardrop: fragments that must overlap or leave a hole, or too short a first one', async (t) => {
  useProfile('ip { tear-drop; }');
  for (const family of [V4, { ...V6, ext: [44] }]) {
    const first: FrameSpec = { ...family, protocol: 'udp', moreFragments: true };
    dropped(t, { ...first, payload: Buffer.alloc(5) }, 'teardrop', `${family.src}: 13 bytes in a non-last fragment`);
    passed(t, { ...first, payload: Buffer.alloc(8) }, `${family.src}: 16 bytes`, 'DROP_NO_SOCKET');
    // Held behind the first fragment just above, which went to the slow path (a miss).
    passed(t, { ...first, payload: Buffer.alloc(5), fragmentOffset: 2, moreFragments: false }, `${family.src}: 13 bytes in the last fragment`, 'DROP_NO_SOCKET');
  }
  dropped(t, { ...V4, protocol: 'tcp', fragmentOffset: 1 }, 'teardrop', 'TCP data at offset 8 (RFC 1858)');
  passed(t, { ...V4, protocol: 'tcp', fragmentOffset: 2 }, 'TCP data at offset 16', 'DROP_FRAGMENT_NO_FIRST');
  const tcpFirst = frame({ ...V4, protocol: 'tcp', moreFragments: true, payload: Buffer.alloc(12) });
  dropped(t, { ...V4, protocol: 'tcp', moreFragments: true, sport: 0, dport: 0 }, 'teardrop', 'a first fragment of 16 bytes cannot hold the TCP header', cutIpv4(tcpFirst, 20 + 16));
  passed(t, { ...V4, protocol: 'tcp' }, 'a first fragment of 32 bytes holds it', undefined, tcpFirst);
  dropped(t, { ...V4, protocol: 250, fragmentOffset: 3, moreFragments: true }, 'teardrop', 'an empty non-last fragment');
});

t.test('ICMP fragment: any ICMP or ICMPv6 fragment', async (t) => {
  useProfile('icmp { fragment; }');
  dropped(t, { ...V4, protocol: 'icmp', moreFragments: true, payload: Buffer.alloc(8) }, 'icmp-fragment', 'IPv4 first fragment');
  dropped(t, { ...V4, protocol: 'icmp', fragmentOffset: 2 }, 'icmp-fragment', 'IPv4 later fragment');
  dropped(t, { ...V6, protocol: 'icmp6', ext: [44], payload: Buffer.alloc(8) }, 'icmp-fragment', 'IPv6 first fragment');
  passed(t, { ...V4, protocol: 'udp', moreFragments: true, payload: Buffer.alloc(8) }, 'a UDP fragment', 'DROP_NO_SOCKET');
  passed(t, { ...V4, protocol: 'icmp' }, 'an unfragmented ping');
});

t.test('SYN fragment: a first fragment that carries a SYN', async (t) => {
  useProfile('tcp { syn-frag; }');
  dropped(t, { ...V4, protocol: 'tcp', tcpFlags: SYN, moreFragments: true, payload: Buffer.alloc(4) }, 'syn-fragment', 'IPv4');
  dropped(t, { ...V6, protocol: 'tcp', tcpFlags: SYN, ext: [44], payload: Buffer.alloc(4) }, 'syn-fragment', 'IPv6');
  passed(t, { ...V4, protocol: 'tcp', tcpFlags: ACK, moreFragments: true, payload: Buffer.alloc(4) }, 'no SYN');
  passed(t, { ...V4, protocol: 'tcp', tcpFlags: SYN }, 'not a fragment');
});

t.test('TCP screens judge first fragments, never later ones', async (t) => {
  useProfile('tcp { land; syn-fin; tcp-no-flag; fin-no-ack; winnuke; }');
  dropped(t, { ...V4, protocol: 'tcp', tcpFlags: SYN | FIN, moreFragments: true, payload: Buffer.alloc(4) }, 'tcp-syn-fin', 'first fragment');
  for (const tcpFlags of [SYN | FIN, 0, FIN, URG]) {
    const later: FrameSpec = { src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp', tcpFlags, dport: 139, fragmentOffset: 2 };
    passed(t, later, `later fragment whose data looks like flags 0x${tcpFlags.toString(16)}`, 'DROP_FRAGMENT_NO_FIRST');
    passed(t, { ...later, src: 'fd09::2', dst: 'fd09::2', ext: [44] }, `IPv6 later fragment, 0x${tcpFlags.toString(16)}`, 'DROP_FRAGMENT_NO_FIRST');
  }
});

t.test('SYN flood: attack threshold per destination address and port, logged past the alarm threshold', async (t) => {
  config = useProfile('tcp { syn-flood { attack-threshold 5; alarm-threshold 2; } }');
  const syn = (family: typeof V4, sport: number, dport = 80) => frame({ ...family, protocol: 'tcp', tcpFlags: SYN, sport, dport });
  await freshWindow(1000);
  for (const family of [V4, V6]) {
    const verdicts = [];
    let events = 0;
    for (let i = 0; i < 10; i++) {
      const r = judge(syn(family, 20000 + i));
      verdicts.push(Object.keys(r.counters).join());
      events += r.events.length;
      if (i === 9) t.match(r.events[0], { screen: 'syn-flood', action: 'drop', sourcePort: 20009, destinationPort: 80, destinationAddress: family.dst });
    }
    t.same(verdicts, [...Array(5).fill('DROP_NO_SOCKET'), ...Array(5).fill('DROP_SCREEN')], `${family.src}: five pass, the rest are dropped`);
    t.equal(events, 3, 'the 6th and 7th are within the alarm threshold: counted, not logged');
    t.same(judge(syn(family, 20010, 443)).counters, { DROP_NO_SOCKET: 1 }, 'another destination port has its own count');
    t.same(judge(frame({ ...family, protocol: 'tcp', tcpFlags: SYN | ACK, sport: 80 })).counters, { DROP_TCP_SYN_CHECK: 1 }, 'a SYN-ACK is not a connection request');
  }
  await freshWindow(1000);
  for (const family of [V4, V6]) t.same(judge(syn(family, 20011)).counters, { DROP_NO_SOCKET: 1 }, `${family.src}: the next second starts a new count`);
  t.match(screenStatsReport(dp, config, null).zones[0]?.screens['syn-flood'], { drops: 10, alarms: 0 }, 'counted per zone and screen');
});

t.test('SYN flood by source and by destination address', async (t) => {
  useProfile('tcp { syn-flood { attack-threshold 1000000; source-threshold 4; destination-threshold 1000000; } }');
  await freshWindow(1000);
  const fromOne = [0, 1, 2, 3, 4, 5].map((i) => judge(frame({ ...V4, dst: `10.9.0.${10 + i}`, protocol: 'tcp', tcpFlags: SYN })));
  t.same(fromOne.map((r) => Object.keys(r.counters).join()), [...Array(4).fill('DROP_NO_SOCKET'), 'DROP_SCREEN', 'DROP_SCREEN']);
  t.match(fromOne[5]!.events[0], { screen: 'syn-flood-src-ip', sourceAddress: '10.8.0.2' });
  useProfile('tcp { syn-flood { attack-threshold 1000000; source-threshold 1000000; destination-threshold 4; } }');
  await freshWindow(1000);
  const toOne = [0, 1, 2, 3, 4].map((i) => judge(frame({ ...V6, src: `fd08::${10 + i}`, dport: 1000 + i, protocol: 'tcp', tcpFlags: SYN })));
  t.same(toOne.map((r) => Object.keys(r.counters).join()), [...Array(4).fill('DROP_NO_SOCKET'), 'DROP_SCREEN']);
  t.match(toOne[4]!.events[0], { screen: 'syn-flood-dst-ip', destinationAddress: 'fd09::2' });
});

t.test('UDP and ICMP floods: packets per second to one destination address', async (t) => {
  for (const [stanza, screen, protocol] of [['udp { flood { threshold 3; } }', 'udp-flood', 'udp'], ['icmp { flood { threshold 3; } }', 'icmp-flood', 'icmp']] as const) {
    useProfile(stanza);
    const p = (family: typeof V4) => (family === V6 && protocol === 'icmp' ? 'icmp6' : protocol);
    await freshWindow(1000);
    for (const family of [V4, V6]) {
      const runs = [1, 2, 3, 4, 5].map((i) => judge(frame({ ...family, protocol: p(family), sport: 3000 + i, icmpId: i })));
      t.same(runs.map((r) => Object.keys(r.counters).join()), ['DROP_NO_SOCKET', 'DROP_NO_SOCKET', 'DROP_NO_SOCKET', 'DROP_SCREEN', 'DROP_SCREEN'], `${screen} ${family.src}`);
      t.match(runs[3]!.events[0], { screen, destinationAddress: family.dst });
      t.same(judge(frame({ ...family, dst: family === V4 ? '10.9.0.3' : 'fd09::3', protocol: p(family) })).counters, { DROP_NO_SOCKET: 1 }, 'another destination');
    }
    await freshWindow(1000);
    for (const family of [V4, V6]) t.same(judge(frame({ ...family, protocol: p(family) })).counters, { DROP_NO_SOCKET: 1 }, `${family.src}: the window resets`);
  }
});

t.test('port scan: 10 distinct ports from one source per window, then the source is refused', async (t) => {
  useProfile('tcp { port-scan { threshold 200000; } }');
  for (const family of [V4, V6]) {
    await freshWindow(200);
    const syn = (dport: number, src = family.src) => frame({ ...family, src, protocol: 'tcp', tcpFlags: SYN, dport });
    const first = [...Array(10).keys()].map((i) => Object.keys(judge(syn(100 + i)).counters).join());
    t.same(first, Array(10).fill('DROP_NO_SOCKET'), `${family.src}: ten ports pass`);
    const eleventh = judge(syn(110));
    t.same(eleventh.counters, { DROP_SCREEN: 1 }, 'the 11th distinct port is a scan');
    t.match(eleventh.events[0], { screen: 'tcp-port-scan', destinationPort: 110, sourceAddress: family.src });
    t.same(judge(syn(100)).counters, { DROP_SCREEN: 1 }, 'and the source stays refused, even to a port it reached before');
    t.same(judge(syn(200, family === V4 ? '10.8.0.3' : 'fd08::3')).counters, { DROP_NO_SOCKET: 1 }, 'another source is not');
    await freshWindow(200);
    t.same(judge(syn(111)).counters, { DROP_NO_SOCKET: 1 }, 'a new window forgives');
  }
  await freshWindow(200);
  for (let i = 0; i < 15; i++) judge(frame({ ...V4, protocol: 'tcp', tcpFlags: SYN, dport: 80 }));
  t.same(judge(frame({ ...V4, protocol: 'tcp', tcpFlags: SYN, dport: 81 })).counters, { DROP_NO_SOCKET: 1 }, 'repeats of one port are one port');
});

t.test('IP sweep: 10 distinct addresses pinged from one source per window', async (t) => {
  useProfile('icmp { ip-sweep { threshold 200000; } }');
  for (const [family, p, base] of [[V4, 'icmp', '10.9.1.'], [V6, 'icmp6', 'fd09::1:']] as const) {
    await freshWindow(200);
    const ping = (n: number, icmpType?: number) => frame({ ...family, dst: `${base}${n}`, protocol: p, icmpType });
    t.same([...Array(10).keys()].map((i) => Object.keys(judge(ping(i)).counters).join()), Array(10).fill('DROP_NO_SOCKET'), `${family.src}: ten pass`);
    t.same(judge(ping(20, p === 'icmp' ? 0 : 129)).counters, { DROP_NO_SOCKET: 1 }, 'echo replies are not counted');
    const r = judge(ping(10));
    t.same(r.counters, { DROP_SCREEN: 1 }, 'the 11th address is a sweep');
    t.match(r.events[0], { screen: 'ip-sweep', destinationAddress: `${base}10`, sourceAddress: family.src });
    await freshWindow(200);
    t.same(judge(ping(11)).counters, { DROP_NO_SOCKET: 1 }, 'a new window forgives');
  }
});

t.test('alarm-without-drop: the event and the counters, never the drop', async (t) => {
  config = useProfile('alarm-without-drop; tcp { land; syn-flood { attack-threshold 1; alarm-threshold 1; } }');
  const before = screenStatsReport(dp, config, null).zones[0]!.screens;
  const land = judge(frame({ src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp', tcpFlags: SYN }));
  t.same(land.counters, { DROP_NO_SOCKET: 1 }, 'the land packet goes on');
  t.match(land.events, [{ screen: 'land', action: 'alarm', sourceAddress: '10.9.0.2' }]);
  await freshWindow(1000);
  const flood = [1, 2, 3, 4].map((i) => judge(frame({ ...V4, protocol: 'tcp', tcpFlags: SYN, sport: 30000 + i })));
  t.same(flood.map((r) => Object.keys(r.counters).join()), Array(4).fill('DROP_NO_SOCKET'), 'a flood goes on');
  t.same(flood.map((r) => r.events.map((e) => e.action).join()), ['', '', 'alarm', 'alarm'], 'logged past both thresholds');
  const after = screenStatsReport(dp, config, null).zones[0]!.screens;
  t.equal(after.land!.alarms - (before.land?.alarms ?? 0), 1);
  t.equal(after['syn-flood']!.alarms - (before['syn-flood']?.alarms ?? 0), 3);
  t.equal(after.land!.drops, before.land?.drops ?? 0, 'no drops counted');
});

t.test('events are rate limited per (zone, screen); the suppressed ones are counted', async (t) => {
  config = useProfile('tcp { land; }');
  const base = screenStatsReport(dp, config, null).zones[0]!.screens.land!;
  await freshWindow(1000);
  const r = judge(frame({ src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp', tcpFlags: SYN }), 150);
  t.same(r.counters, { DROP_SCREEN: 150 }, 'every packet dropped');
  t.equal(r.events.length, 100, 'XDPFW_XDP_EVENTS_PER_SECOND events, the default budget');
  const land = screenStatsReport(dp, config, null).zones[0]!.screens.land!;
  t.equal(land.drops - base.drops, 150);
  t.equal(land.eventsSuppressed - base.eventsSuppressed, 50, 'the rest counted as suppressed');
  const text = formatScreenStats(screenStatsReport(dp, config, null, 'untrust'));
  t.match(text, /^Zone untrust: screen S\n/, 'people read the zone and its profile');
  t.match(text, new RegExp(`^  land +${land.drops} +${land.alarms} +${land.eventsSuppressed}$`, 'm'), 'and a line per screen');
  t.throws(() => screenStatsReport(dp, config, null, 'nowhere'), /no security-zone named 'nowhere'/);
});

t.test('the screen event budget is the configured screen-drop rate; suppressed events are also counted by kind', async (t) => {
  const { XdpEventBudget } = await import('../../lib/events/xdp-budget.js');
  const { DEFAULT_EVENT_RATES } = await import('../../lib/events/rate-limit.js');
  const budget = new XdpEventBudget(dp, readEventConstants(dp.objectPath).kinds);
  budget.setRates({ ...DEFAULT_EVENT_RATES, 'screen-drop': 20 });
  t.teardown(() => budget.setRates(DEFAULT_EVENT_RATES));
  config = useProfile('tcp { land; }');
  const base = screenStatsReport(dp, config, null).zones[0]!.screens.land!;
  const kindBase = budget.suppressed()['screen-drop'];
  await freshWindow(1000);
  const r = judge(frame({ src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp', tcpFlags: SYN }), 50);
  t.same(r.counters, { DROP_SCREEN: 50 }, 'every packet dropped');
  t.equal(r.events.length, 20, 'the configured rate of events');
  t.equal(screenStatsReport(dp, config, null).zones[0]!.screens.land!.eventsSuppressed - base.eventsSuppressed, 30);
  t.equal(budget.suppressed()['screen-drop'] - kindBase, 30, 'and among the XDP events suppressed, by kind');
});

t.test('a screen drop counts the whole frame, multi-buffer too, in its verdict and its suppressed event', async (t) => {
  const { XdpEventBudget } = await import('../../lib/events/xdp-budget.js');
  const { DEFAULT_EVENT_RATES } = await import('../../lib/events/rate-limit.js');
  const { COUNTER_VALUE } = await import('../../lib/dataplane/layout.js');
  const { XDP_DROP } = await import('../../lib/dataplane/xdp-abi.js');
  const constants = readEventConstants(dp.objectPath);
  const budget = new XdpEventBudget(dp, constants.kinds);
  budget.setRates({ ...DEFAULT_EVENT_RATES, 'screen-drop': 1 });
  t.teardown(() => budget.setRates(DEFAULT_EVENT_RATES));
  useProfile('tcp { land; }');
  const suppressedBytes = (): bigint => {
    const value = Buffer.alloc(COUNTER_VALUE.size * dp.cpus);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(constants.kinds.value('screen-drop'));
    native.mapLookup(dp.mapFd('xdpfw_event_suppressed'), key, value);
    let n = 0n;
    for (let cpu = 0; cpu < dp.cpus; cpu++) n += value.readBigUInt64LE(cpu * COUNTER_VALUE.size + COUNTER_VALUE.offset.bytes);
    return n;
  };
  await freshWindow(1000);
  t.equal(judge(frame({ src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp', tcpFlags: SYN })).events.length, 1, 'the one event of the second');
  for (const length of [60, 1514, 9014]) {
    const spec = { src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp' as const, tcpFlags: SYN };
    const data = frame({ ...spec, payload: Buffer.alloc(length - frame(spec).length) });
    t.equal(data.length, length);
    const before = dp.readCounters().get('DROP_SCREEN')!;
    const suppressed = suppressedBytes();
    const r = native.progTestRun(dp.progs.rx, { data, ifindex: IN, rxQueue: 0, dataOutSize: data.length + 64 });
    t.equal(r.retval, XDP_DROP, `${length} bytes: dropped`);
    const after = dp.readCounters().get('DROP_SCREEN')!;
    t.equal(after.packets - before.packets, 1n, `${length} bytes: counted once`);
    t.equal(after.bytes - before.bytes, BigInt(length), `${length} bytes: the verdict counts every byte of the frame`);
    t.equal(suppressedBytes() - suppressed, BigInt(length), `${length} bytes: so does its suppressed event`);
  }
  t.same(drainEvents(), [], 'no more in the second');
});

t.test('a zone without a screen is not screened', async (t) => {
  applyScreens(dp, compiled('security { zones { security-zone untrust { interfaces { in0; } } } screen { ids-option S { tcp { land; } } } }'));
  passed(t, { src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp', tcpFlags: SYN }, 'land without the screen');
});

t.test('a rate holds across CPUs: one shared count, not one per CPU', async (t) => {
  const cpus = [0, 1];
  config = useProfile('tcp { syn-flood { attack-threshold 150000; alarm-threshold 1; source-threshold 1000000; destination-threshold 1000000; } }');
  const data = frame({ ...V4, protocol: 'tcp', tcpFlags: SYN, dport: 8080 });
  const worker = fileURLToPath(new URL('./screens-worker.js', import.meta.url));
  const perWorker = 200_000;
  type Run = { began: bigint; ended: bigint };
  /** Starts one worker per CPU; once all have loaded the object, starts them together early in a fresh second. */
  const attempt = async (): Promise<{ start: bigint; runs: Run[] }> => {
    const children = cpus.map((cpu) => spawn('taskset', ['-c', String(cpu), process.execPath, worker, stateDir, 'in0', data.toString('hex'), String(perWorker)], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const outputs = children.map((child, i) => {
      const lines: string[] = [];
      let partial = '';
      let readyResolve = (): void => undefined;
      const ready = new Promise<void>((r) => (readyResolve = r));
      child.stdout!.on('data', (d: Buffer) => {
        partial += d.toString();
        const parts = partial.split('\n');
        partial = parts.pop()!;
        lines.push(...parts);
        if (lines.length > 0) readyResolve();
      });
      const done = new Promise<Run>((resolve, reject) => {
        child.on('exit', (code) => {
          if (code !== 0 || lines.length < 2) return reject(new Error(`worker on CPU ${cpus[i]} exited with ${code}`));
          const o = JSON.parse(lines[1]!) as { began: string; ended: string };
          resolve({ began: BigInt(o.began), ended: BigInt(o.ended) });
        });
      });
      done.catch(() => undefined); // awaited below
      return { ready: Promise.race([ready, done.then(() => undefined)]), done };
    });
    await Promise.all(outputs.map((o) => o.ready));
    const now = native.monotonicNs();
    const start = now - (now % 1_000_000_000n) + 1_100_000_000n;
    for (const child of children) child.stdin!.end(`${start}\n`);
    return { start, runs: await Promise.all(outputs.map((o) => o.done)) };
  };
  // A busy machine may preempt a worker past the window's end; such a try
  // proves nothing either way, so it is repeated in a fresh window.
  for (let tries = 1; ; tries++) {
    const before = dp.readCounters();
    const floodBefore = screenStatsReport(dp, config, null).zones[0]!.screens['syn-flood']?.drops ?? 0;
    const { start, runs } = await attempt();
    const events = drainEvents();
    const inWindow = runs.every((r) => r.began >= start && r.ended - start < 800_000_000n);
    t.comment(`try ${tries}: began ${runs.map((r) => r.began - start)} ns, ended ${runs.map((r) => r.ended - start)} ns after the start; ` +
      `overlapped: ${runs[0]!.began < runs[1]!.ended && runs[1]!.began < runs[0]!.ended}`);
    if (!inWindow && tries < 5) continue;
    t.ok(inWindow, 'every run fell within one window');
    const delta = (name: string) => Number(dp.readCounters().get(name)!.packets - before.get(name)!.packets);
    t.equal(delta('DROP_NO_SOCKET'), 150_000, 'exactly the attack threshold passed');
    t.equal(delta('DROP_SCREEN'), 2 * perWorker - 150_000, 'the rest was dropped');
    const flood = screenStatsReport(dp, config, null).zones[0]!.screens['syn-flood']!;
    t.equal(flood.drops - floodBefore, 2 * perWorker - 150_000, 'screen counters sum the CPUs');
    t.ok(events.length <= 100, 'and the event budget held');
    break;
  }
});

t.test('syn-flood white-list: SYNs from a listed source or to a listed destination are not counted', async (t) => {
  useProfile(`tcp { syn-flood { attack-threshold 2; alarm-threshold 1; source-threshold 1000000; destination-threshold 1000000;
    white-list w { source-address [ 10.8.0.0/24 fd08::/64 ]; destination-address 10.9.0.77; } } }`);
  for (const [family, listed, other] of [[V4, '10.8.0.2', '10.8.1.2'], [V6, 'fd08::2', 'fd08:0:0:1::2']] as const) {
    await freshWindow(1000);
    const syn = (src: string, dst: string = family.dst, sport = 1000) => frame({ ...family, src, dst, protocol: 'tcp', tcpFlags: SYN, sport });
    const listedRuns = [1, 2, 3, 4, 5].map((i) => Object.keys(judge(syn(listed, family.dst, 2000 + i)).counters).join());
    t.same(listedRuns, Array(5).fill('DROP_NO_SOCKET'), `${family.src}: a listed source floods unscreened`);
    const otherRuns = [1, 2, 3].map((i) => Object.keys(judge(syn(other, family.dst, 3000 + i)).counters).join());
    t.same(otherRuns, ['DROP_NO_SOCKET', 'DROP_NO_SOCKET', 'DROP_SCREEN'], `${family.src}: another source is counted from zero, and dropped past the threshold`);
  }
  await freshWindow(1000);
  const toListed = [1, 2, 3, 4].map((i) => Object.keys(judge(frame({ ...V4, src: '10.7.0.2', dst: '10.9.0.77', protocol: 'tcp', tcpFlags: SYN, sport: 4000 + i })).counters).join());
  t.same(toListed, Array(4).fill('DROP_NO_SOCKET'), 'a listed destination is not counted either');
  useProfile('tcp { syn-flood { attack-threshold 2; alarm-threshold 1; } }');
  await freshWindow(1000);
  const unlisted = [1, 2, 3].map((i) => Object.keys(judge(frame({ ...V4, src: '10.8.0.2', protocol: 'tcp', tcpFlags: SYN, sport: 5000 + i })).counters).join());
  t.same(unlisted, ['DROP_NO_SOCKET', 'DROP_NO_SOCKET', 'DROP_SCREEN'], 'once the list is gone, the same source is screened');
  t.equal(native.mapDump(dp.mapFd('xdpfw_screen_allow'), 24, 1).count, 0, 'and its entries were removed');
});

t.test('udp flood white-list: UDP from or to a listed address is not counted', async (t) => {
  useProfile('udp { flood { threshold 2; white-list [ near far6 ]; } }',
    'white-list near { address [ 10.8.0.0/24 10.9.0.77 ]; } white-list far6 { address fd08::/64; }');
  for (const [family, listed, other] of [[V4, '10.8.0.2', '10.8.1.2'], [V6, 'fd08::2', 'fd08:0:0:1::2']] as const) {
    await freshWindow(1000);
    const udp = (src: string, dst: string = family.dst) => frame({ ...family, src, dst, protocol: 'udp' });
    const listedRuns = [1, 2, 3, 4, 5].map(() => Object.keys(judge(udp(listed)).counters).join());
    t.same(listedRuns, Array(5).fill('DROP_NO_SOCKET'), `${family.src}: a listed source floods unscreened`);
    const otherRuns = [1, 2, 3].map(() => Object.keys(judge(udp(other)).counters).join());
    t.same(otherRuns, ['DROP_NO_SOCKET', 'DROP_NO_SOCKET', 'DROP_SCREEN'], `${family.src}: another source is counted, and dropped past the threshold`);
  }
  await freshWindow(1000);
  const toListed = [1, 2, 3, 4].map(() => Object.keys(judge(frame({ ...V4, src: '10.7.0.2', dst: '10.9.0.77', protocol: 'udp' })).counters).join());
  t.same(toListed, Array(4).fill('DROP_NO_SOCKET'), 'a listed destination is not counted either');
  useProfile('udp { flood { threshold 2; } }');
  await freshWindow(1000);
  const unlisted = [1, 2, 3].map(() => Object.keys(judge(frame({ ...V4, src: '10.8.0.2', protocol: 'udp' })).counters).join());
  t.same(unlisted, ['DROP_NO_SOCKET', 'DROP_NO_SOCKET', 'DROP_SCREEN'], 'once the list is gone, the same source is screened');
  t.equal(native.mapDump(dp.mapFd('xdpfw_screen_allow'), 24, 1).count, 0, 'and its entries were removed');
});

t.test('bad-option: a malformed IPv4 option list', async (t) => {
  useProfile('ip { bad-option; }');
  dropped(t, { ...V4, protocol: 'udp', ipOptions: Buffer.from([7, 1, 0, 0]) }, 'ip-bad-option', 'an option shorter than its type and length');
  dropped(t, { ...V4, protocol: 'udp', ipOptions: Buffer.from([68, 12, 5, 0]) }, 'ip-bad-option', 'an option running past the header');
  dropped(t, { ...V4, protocol: 'tcp', tcpFlags: SYN, ipOptions: Buffer.concat([OPT.sid, Buffer.from([7, 9, 4, 0])]) }, 'ip-bad-option', 'after a good option');
  passed(t, { ...V4, protocol: 'udp', ipOptions: OPT.rr }, 'a well-formed record route');
  passed(t, { ...V4, protocol: 'udp', ipOptions: Buffer.from([1, 1, 0, 99]) }, 'no-operations, then the end of the list');
});

t.test('block-frag: every fragment, IPv4 and IPv6', async (t) => {
  useProfile('ip { block-frag; }');
  dropped(t, { ...V4, protocol: 'udp', moreFragments: true, payload: Buffer.alloc(8) }, 'ip-block-frag', 'IPv4 first fragment');
  dropped(t, { ...V4, protocol: 'udp', fragmentOffset: 2 }, 'ip-block-frag', 'IPv4 later fragment');
  dropped(t, { ...V6, protocol: 'udp', ext: [44], payload: Buffer.alloc(8) }, 'ip-block-frag', 'IPv6 first fragment');
  passed(t, { ...V4, protocol: 'udp' }, 'IPv4, whole');
  passed(t, { ...V6, protocol: 'udp', ext: [60] }, 'IPv6 with another extension header');
});

t.test('unknown-protocol: above 137 (IPv4) and 139 (IPv6)', async (t) => {
  useProfile('ip { unknown-protocol; }');
  const none = { sport: 0, dport: 0 };
  dropped(t, { ...V4, protocol: 138, ...none }, 'ip-unknown-protocol', 'IPv4 protocol 138');
  passed(t, { ...V4, protocol: 137, ...none }, 'IPv4 protocol 137');
  dropped(t, { ...V6, protocol: 140, ...none }, 'ip-unknown-protocol', 'IPv6 next header 140');
  passed(t, { ...V6, protocol: 139, ...none }, 'IPv6 next header 139');
  dropped(t, { ...V6, protocol: 253, ext: [60], ...none }, 'ip-unknown-protocol', 'IPv6, behind an extension header');
});

t.test('icmp large: ICMP packets over 1024 bytes', async (t) => {
  useProfile('icmp { large; }');
  dropped(t, { ...V4, protocol: 'icmp', payload: Buffer.alloc(1025 - 28) }, 'icmp-large', 'IPv4, 1025 bytes');
  passed(t, { ...V4, protocol: 'icmp', payload: Buffer.alloc(1024 - 28) }, 'IPv4, 1024 bytes');
  dropped(t, { ...V6, protocol: 'icmp6', payload: Buffer.alloc(1025 - 48) }, 'icmp-large', 'IPv6, 1025 bytes');
  passed(t, { ...V6, protocol: 'icmp6', payload: Buffer.alloc(1024 - 48) }, 'IPv6, 1024 bytes');
  passed(t, { ...V4, protocol: 'udp', payload: Buffer.alloc(1200) }, 'large UDP is not ICMP');
});

t.test('icmpv6-malformed: an echo with a code, an error without the packet it reports', async (t) => {
  useProfile('icmp { icmpv6-malformed; }');
  dropped(t, { ...V6, protocol: 'icmp6', icmpCode: 1 }, 'icmpv6-malformed', 'echo request, code 1');
  dropped(t, { ...V6, protocol: 'icmp6', icmpType: 1, icmpId: 0, payload: Buffer.alloc(39) }, 'icmpv6-malformed', 'destination unreachable, 39 bytes reported');
  passed(t, { ...V6, protocol: 'icmp6' }, 'echo request, code 0');
  const whole = judge(frame({ ...V6, protocol: 'icmp6', icmpType: 1, payload: frame({ ...V6, protocol: 'udp' }).subarray(14) }));
  t.notOk(whole.counters.DROP_SCREEN, 'an unreachable carrying the whole header goes on');
  t.same(whole.events, [], 'unlogged');
  passed(t, { ...V4, protocol: 'icmp', icmpCode: 1 }, 'ICMPv4 is not judged');
});

t.test('ipv6-extension-header: the header types named, wherever they are', async (t) => {
  useProfile('ip { ipv6-extension-header { routing-header; ESP-header; } }');
  const none = { sport: 0, dport: 0 };
  dropped(t, { ...V6, protocol: 'udp', ext: [60, 43] }, 'ipv6-extension-header', 'a routing header after a destination options header');
  dropped(t, { ...V6, protocol: 50, ...none }, 'ipv6-extension-header', 'ESP');
  passed(t, { ...V6, protocol: 'udp', ext: [0, 60] }, 'hop-by-hop and destination options: not named');
  passed(t, { ...V4, protocol: 50, ...none }, 'IPv4 ESP is not an IPv6 extension header');
  useProfile('ip { ipv6-extension-header { hop-by-hop-header; fragment-header; } }');
  dropped(t, { ...V6, protocol: 'tcp', tcpFlags: SYN, ext: [0] }, 'ipv6-extension-header', 'hop-by-hop');
  dropped(t, { ...V6, protocol: 'udp', ext: [44], payload: Buffer.alloc(8) }, 'ipv6-extension-header', 'a fragment header');
  passed(t, { ...V6, protocol: 'udp', ext: [43] }, 'routing header: not named now');
});

t.test('ipv6-extension-header-limit: more headers than the limit', async (t) => {
  useProfile('ip { ipv6-extension-header-limit 2; }');
  dropped(t, { ...V6, protocol: 'udp', ext: [0, 60, 43] }, 'ipv6-extension-header-limit', 'three headers');
  dropped(t, { ...V6, protocol: 50, ext: [0, 60], sport: 0, dport: 0 }, 'ipv6-extension-header-limit', 'two, then ESP');
  passed(t, { ...V6, protocol: 'udp', ext: [0, 60] }, 'two headers');
  useProfile('ip { ipv6-extension-header-limit 0; }');
  dropped(t, { ...V6, protocol: 'udp', ext: [60] }, 'ipv6-extension-header-limit', 'limit 0: one header');
  passed(t, { ...V6, protocol: 'udp' }, 'limit 0: none');
});

t.test('IPv6 option types and header types named, and bad options inside IPv6 option headers', async (t) => {
  useProfile(`ip { bad-option; ipv6-extension-header { hop-by-hop-header { router-alert-option; }
    destination-header { user-defined-option-type 30 to 31; } user-defined-header-type 253 to 253; } }`);
  /** A frame whose first extension header's option area (6 bytes) is `opts`. */
  const withOptions = (ext: number[], opts: number[], protocol: 'udp' | number = 'udp') => {
    const data = frame({ ...V6, protocol, ext, sport: protocol === 'udp' ? 1234 : 0, dport: protocol === 'udp' ? 53 : 0 });
    Buffer.from(opts).copy(data, 14 + 40 + 2);
    return data;
  };
  const spec = { ...V6, protocol: 'udp' } as const;
  dropped(t, spec, 'ipv6-extension-header', 'a router alert in a hop-by-hop header', withOptions([0], [5, 2, 0, 0, 0, 0]));
  passed(t, spec, 'a router alert in a destination options header: not named there', undefined, withOptions([60], [5, 2, 0, 0, 0, 0]));
  dropped(t, spec, 'ipv6-extension-header', 'option type 31 in a destination options header', withOptions([60], [31, 1, 0, 0, 0, 0]));
  dropped(t, spec, 'ipv6-extension-header', 'behind a hop-by-hop header too', withOptions([0, 60], [1, 4, 0, 0, 0, 0]).fill(30, 64, 65).fill(1, 65, 66));
  passed(t, spec, 'option type 32: outside the range', undefined, withOptions([60], [32, 1, 0, 0, 0, 0]));
  passed(t, spec, 'padding only', undefined, withOptions([0, 60], [1, 4, 0, 0, 0, 0]));
  /** A 16-byte destination options header of 14 Pad1 options: more than XDP walks. */
  const manyPads = () => frame({ ...V6, protocol: 'udp', ext: [60], extLengths: [16] }).fill(0, 14 + 40 + 2, 14 + 40 + 16);
  dropped(t, { ...spec, ext: [60] }, 'ipv6-extension-header', 'more options than walked, in a header whose options are screened', manyPads());
  dropped(t, spec, 'ip-bad-option', 'a PadN running past its header', withOptions([0], [1, 10, 0, 0, 0, 0]));
  dropped(t, { ...V6, protocol: 253, sport: 0, dport: 0 }, 'ipv6-extension-header', 'header type 253 after a destination options header',
    withOptions([60], [0, 0, 0, 0, 0, 0], 253));
  useProfile('ip { ipv6-extension-header { routing-header; } }');
  passed(t, spec, 'the option types no longer named', undefined, withOptions([0], [5, 2, 0, 0, 0, 0]));
  passed(t, spec, 'bad-option off', undefined, withOptions([0], [1, 10, 0, 0, 0, 0]));
  passed(t, spec, 'more options than walked, where no option is screened', undefined, manyPads());
});

t.test('ipv6-malformed-header: a hop-by-hop header anywhere but first', async (t) => {
  useProfile('ip { ipv6-malformed-header; }');
  dropped(t, { ...V6, protocol: 'udp', ext: [60, 0] }, 'ipv6-malformed-header', 'hop-by-hop after a destination options header');
  dropped(t, { ...V6, protocol: 'tcp', tcpFlags: SYN, ext: [43, 0] }, 'ipv6-malformed-header', 'hop-by-hop after a routing header');
  passed(t, { ...V6, protocol: 'udp', ext: [0, 60] }, 'hop-by-hop first');
  passed(t, { ...V6, protocol: 'udp', ext: [60, 60] }, 'no hop-by-hop');
  useProfile('ip { bad-option; }');
  passed(t, { ...V6, protocol: 'udp', ext: [60, 0] }, 'the screen off');
});

/** An IP packet (no Ethernet header) to carry in a tunnel. */
const innerPacket = (src: string, dst: string): Buffer => frame({ src, dst, protocol: 'udp' }).subarray(14);
const IN4 = innerPacket('192.0.2.1', '192.0.2.2');
const IN6 = innerPacket('fd00::1', 'fd00::2');
const gre = (type: number, inner: Buffer, flags = 0, extra = Buffer.alloc(0)) =>
  Buffer.concat([Buffer.from([flags >> 8, flags & 0xff, type >> 8, type & 0xff]), extra, inner]);

t.test('ip tunnel: each kind of tunnel by its own statement, IPv4 and IPv6 outside', async (t) => {
  const none = { sport: 0, dport: 0 };
  const cases: Array<[string, ScreenKey, FrameSpec]> = [
    ['gre { gre-4in4; }', 'tunnel-gre-4in4', { ...V4, protocol: 47, payload: gre(0x0800, IN4), ...none }],
    ['gre { gre-6in4; }', 'tunnel-gre-6in4', { ...V4, protocol: 47, payload: gre(0x86dd, IN6, 0x2000, Buffer.alloc(4)), ...none }],
    ['gre { gre-4in6; }', 'tunnel-gre-4in6', { ...V6, protocol: 47, payload: gre(0x0800, IN4, 0xb000, Buffer.alloc(12)), ...none }],
    ['gre { gre-6in6; }', 'tunnel-gre-6in6', { ...V6, protocol: 47, payload: gre(0x86dd, IN6), ...none }],
    ['ipip { ipip-4in4; }', 'tunnel-ipip-4in4', { ...V4, protocol: 4, payload: IN4, ...none }],
    ['ipip { ipip-6in4; }', 'tunnel-ipip-6in4', { ...V4, protocol: 41, payload: IN6, ...none }],
    ['ipip { ipip-4in6; }', 'tunnel-ipip-4in6', { ...V6, protocol: 4, payload: IN4, ...none }],
    ['ipip { ipip-6in6; }', 'tunnel-ipip-6in6', { ...V6, protocol: 41, payload: IN6, ...none }],
    ['ipip { dslite; }', 'tunnel-ipip-dslite', { ...V6, protocol: 4, payload: IN4, ...none }],
    ['ipip { isatap; }', 'tunnel-ipip-isatap', { ...V4, protocol: 41, payload: innerPacket('fe80::200:5efe:c000:201', 'fe80::1'), ...none }],
    ['ipip { ipip-6to4relay; }', 'tunnel-ipip-6to4relay', { ...V4, protocol: 41, payload: innerPacket('fd00::1', '2002:c000:201::1'), ...none }],
    ['ipip { ipip-6over4; }', 'tunnel-ipip-6over4', { src: V4.src, dst: '239.192.0.5', protocol: 41, payload: IN6, ...none }],
    ['ip-in-udp { teredo; }', 'tunnel-teredo', { ...V4, protocol: 'udp', dport: 3544, payload: IN6 }],
  ];
  for (const [stanza, screen, spec] of cases) {
    useProfile(`ip { tunnel { ${stanza} } }`);
    dropped(t, spec, screen, stanza);
  }
  // Each statement is its own: the same packets pass other statements.
  useProfile('ip { tunnel { gre { gre-4in6; } ipip { ipip-4in6; isatap; ipip-6to4relay; } ip-in-udp { teredo; } } }');
  passed(t, { ...V4, protocol: 47, payload: gre(0x0800, IN4), ...none }, 'GRE 4in4 is not 4in6');
  passed(t, { ...V6, protocol: 47, payload: gre(0x6558, Buffer.alloc(14)), ...none }, 'GRE carrying Ethernet is not IP in IP');
  passed(t, { ...V4, protocol: 41, payload: IN6, ...none }, 'plain 6in4 is neither ISATAP nor 6to4');
  passed(t, { ...V4, protocol: 'udp', dport: 3544, payload: Buffer.alloc(8) }, 'Teredo port, no IPv6 in it');
  passed(t, { ...V4, protocol: 'udp', dport: 3545, payload: IN6 }, 'IPv6 in UDP on another port');
});

t.test('ip tunnel bad-inner-header: the inner header must be what the outer one says, and fit', async (t) => {
  useProfile('ip { tunnel { bad-inner-header; } }');
  const none = { sport: 0, dport: 0 };
  const long = Buffer.from(IN4);
  long.writeUInt16BE(200, 2);
  dropped(t, { ...V4, protocol: 4, payload: long, ...none }, 'tunnel-bad-inner-header', 'inner total length past the packet');
  dropped(t, { ...V4, protocol: 41, payload: IN4, ...none }, 'tunnel-bad-inner-header', 'IPv4 where IPv6 was announced');
  dropped(t, { ...V6, protocol: 47, payload: gre(0x86dd, IN6.subarray(0, 30)), ...none }, 'tunnel-bad-inner-header', 'a truncated inner IPv6 header in GRE');
  dropped(t, { ...V4, protocol: 'udp', dport: 3544, payload: IN6.subarray(0, 44) }, 'tunnel-bad-inner-header', 'Teredo, inner payload cut');
  passed(t, { ...V4, protocol: 4, payload: IN4, ...none }, 'a good inner header, no tunnel type screened');
  passed(t, { ...V6, protocol: 47, payload: gre(0x86dd, IN6, 0x2000, Buffer.alloc(4)), ...none }, 'GRE with a key, good inner header');
});

// Windows of a second (the longest Junos allows): eleven runs fit in one on a loaded machine.
t.test('tcp-sweep, udp-sweep: 10 distinct addresses from one source per window', async (t) => {
  for (const [stanza, screen, protocol] of [['tcp { tcp-sweep { threshold 1000000; } }', 'tcp-sweep', 'tcp'], ['udp { udp-sweep { threshold 1000000; } }', 'udp-sweep', 'udp']] as const) {
    useProfile(stanza);
    for (const [family, base] of [[V4, '10.9.2.'], [V6, 'fd09::2:']] as const) {
      await freshWindow(1000);
      const send = (n: number, tcpFlags = SYN) => frame({ ...family, dst: `${base}${n}`, protocol, tcpFlags });
      t.same([...Array(10).keys()].map((i) => Object.keys(judge(send(i)).counters).join()), Array(10).fill('DROP_NO_SOCKET'), `${screen} ${family.src}: ten pass`);
      if (protocol === 'tcp') t.same(judge(send(30, ACK)).counters, { DROP_TCP_SYN_CHECK: 1 }, 'a segment other than a SYN is not counted');
      const r = judge(send(10));
      t.same(r.counters, { DROP_SCREEN: 1 }, `${screen}: the 11th address is a sweep`);
      t.match(r.events[0], { screen, destinationAddress: `${base}10`, sourceAddress: family.src });
      await freshWindow(1000);
      t.same(judge(send(11)).counters, { DROP_NO_SOCKET: 1 }, 'a new window forgives');
    }
  }
});

t.test('udp port-scan: 10 distinct ports from one source per window', async (t) => {
  useProfile('udp { port-scan { threshold 1000000; } }');
  for (const family of [V4, V6]) {
    await freshWindow(1000);
    const send = (dport: number) => frame({ ...family, protocol: 'udp', dport });
    t.same([...Array(10).keys()].map((i) => Object.keys(judge(send(100 + i)).counters).join()), Array(10).fill('DROP_NO_SOCKET'), `${family.src}: ten ports pass`);
    const r = judge(send(110));
    t.same(r.counters, { DROP_SCREEN: 1 }, 'the 11th distinct port is a scan');
    t.match(r.events[0], { screen: 'udp-port-scan', destinationPort: 110, sourceAddress: family.src });
    t.same(judge(frame({ ...family, protocol: 'tcp', tcpFlags: SYN, dport: 111 })).counters, { DROP_NO_SOCKET: 1 }, 'TCP is the TCP port scan\'s business');
    await freshWindow(1000);
    t.same(judge(send(111)).counters, { DROP_NO_SOCKET: 1 }, 'a new window forgives');
  }
});
