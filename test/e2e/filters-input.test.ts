// Input filters on a firewall interface, end to end: the real daemon between
// the client and server namespaces, real UDP, TCP and ICMP from the client,
// for both families. What the client sees (silence, a refusal, an answer),
// what `show log --json` and `show firewall --json` report.
import t, { type Test } from 'tap';
import { ADDR, type RunningTraffic, Topology } from '../helpers/topology.js';
import {
  type FilterLogJson, apply, filterId, filterLogs, filtersConfig, firewallCounter, ping, sleep, slowDrops, tcp, udp, waitForLogs,
} from '../helpers/filters.js';

const ECHO = 5002;
const TCP_DISCARD = 6002;
const TCP_REJECT = 6003;
const TCP_OPEN = 5001;
const SYSLOG_PORT = 5514;
/** UDP client source ports, one per term. */
const SPORT = { discard: 41001, rejectPort: 41002, rejectAdmin: 41003, count: 41004, unmatched: 41006 } as const;

/**
 * The input filter of trust0 for one family; `icmp` is the then-clause of the term for ICMP
 * echo requests (the ping tests swap it by reload).
 */
function filter(family: 'inet' | 'inet6', icmp: string): string {
  const v6 = family === 'inet6';
  const proto = v6 ? 'next-header' : 'protocol';
  const icmpProto = v6 ? 'icmp6' : 'icmp';
  return `
        filter in-${family} {
            term udp-discard { from { ${proto} udp; source-port ${SPORT.discard}; } then { discard; syslog; } }
            term tcp-discard { from { ${proto} tcp; destination-port ${TCP_DISCARD}; } then { discard; log; } }
            term tcp-reject { from { ${proto} tcp; destination-port ${TCP_REJECT}; } then { reject; log; } }
            term udp-reject-port { from { ${proto} udp; source-port ${SPORT.rejectPort}; } then { reject port-unreachable; log; } }
            term udp-reject { from { ${proto} udp; source-port ${SPORT.rejectAdmin}; } then { reject; log; } }
            term udp-count { from { ${proto} udp; source-port ${SPORT.count}; } then { count udp-in; accept; } }
            term echo { from { ${proto} ${icmpProto}; icmp-type echo-request; } then { ${icmp} } }
            term other-udp { from { ${proto} udp; source-port 1-${SPORT.unmatched - 1}; } then accept; }
            term rest { from { ${proto} [ tcp ${icmpProto} ]; } then accept; }
        }`;
}

function config(icmp: string): string {
  return filtersConfig(`
firewall {
    family inet {${filter('inet', icmp)}
    }
    family inet6 {${filter('inet6', icmp)}
    }
}
interfaces {
    trust0 { unit 0 { family inet { filter { input in-inet; } } family inet6 { filter { input in-inet6; } } } }
}`, { syslog: `host 127.0.0.1 { port ${SYSLOG_PORT}; transport udp; format structured; }` });
}

let topo: Topology;
let syslog: RunningTraffic;
const loaded = { done: false };

t.before(async () => {
  topo = await Topology.create();
  syslog = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'udp', '--listen', '127.0.0.1', '--port', String(SYSLOG_PORT)], 600_000);
  await apply(topo, config('accept;'), loaded);
  await topo.startTraffic('server', ['udp-echo', '--port', String(ECHO)]);
  for (const port of [TCP_OPEN, TCP_DISCARD, TCP_REJECT]) await topo.startTraffic('server', ['tcp-sink', '--port', String(port)]);
});
t.teardown(() => topo?.destroy());

const messages = (): string[] => syslog.lines.map((x) => JSON.parse(x) as { msg?: string }).flatMap((x) => (x.msg ? [x.msg] : []));

async function syslogLine(re: RegExp, ms = 5000): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = messages().find((m) => re.test(m));
    if (hit || Date.now() > deadline) return hit;
    await sleep(100);
  }
}

function sd(msg: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(msg)?.[1];
}

const addrs = (family: 'inet' | 'inet6') =>
  family === 'inet' ? { client: ADDR.client4, server: ADDR.server4 } : { client: ADDR.client6, server: ADDR.server6 };

/** Every fact of a slow-path input filter log for a packet from the client to the server. */
function expectInputLog(t: Test, e: FilterLogJson | undefined, family: 'inet' | 'inet6', want: {
  term: string; termId: number; action: string; protocol: string; sourcePort?: number; destinationPort?: number; icmpType?: number;
}): void {
  const a = addrs(family);
  t.ok(e, `a FILTER_LOG event for term ${want.term}`);
  if (!e) return;
  t.match(e, {
    kind: 'filter-log',
    family,
    filter: `in-${family}`,
    filterId: filterId(family, 1),
    term: want.term,
    termId: want.termId,
    filterSource: 'input',
    action: want.action,
    protocolName: want.protocol,
    sourceAddress: a.client,
    destinationAddress: a.server,
    ingressInterface: 'trust0',
    filterInterface: 'trust0',
    sourceZone: 'trust',
    sessionId: 0,
  });
  if (want.sourcePort !== undefined) t.equal(e.sourcePort, want.sourcePort, 'source port');
  if (want.destinationPort !== undefined) t.equal(e.destinationPort, want.destinationPort, 'destination port');
  if (want.icmpType !== undefined) t.equal(e.icmpType, want.icmpType, 'ICMP type');
  t.ok(Math.abs(Date.parse((e as unknown as { timestamp: string }).timestamp) - Date.now()) < 60_000, 'a real timestamp');
}

for (const family of ['inet', 'inet6'] as const) {
  const a = addrs(family);

  t.test(`${family}: the filter lets unmatched-by-discard traffic through (baseline)`, async (t) => {
    const u = await udp(topo, 'client', a.server, ECHO, 40000, 3);
    t.equal(u.received, 3, 'UDP echoed');
    const c = await tcp(topo, 'client', a.server, TCP_OPEN);
    t.ok(c.ok, `TCP to an accepted port works (${c.error ?? ''})`);
    t.equal(c.received, 1000);
  });

  t.test(`${family}: input discard drops silently and logs action discard`, async (t) => {
    const before = await slowDrops(topo, 'filter_discard');
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.discard, 1);
    t.equal(u.received, 0, 'the datagram never reached the echo server');
    const c = await tcp(topo, 'client', a.server, TCP_DISCARD, 100, 1500);
    t.notOk(c.ok);
    t.equal(c.error, 'ETIMEDOUT', 'the TCP client times out: no answer at all, though the server listens');

    const ulogs = await waitForLogs(topo, (e) => e.sourcePort === SPORT.discard && e.family === family, 1);
    t.equal(ulogs.length, 1, 'one event for the one datagram');
    expectInputLog(t, ulogs[0], family, { term: 'udp-discard', termId: 1, action: 'discard', protocol: 'udp', sourcePort: SPORT.discard, destinationPort: ECHO });

    // `log` keeps the event on the box (show log); each SYN (and its retransmissions) is one event.
    const tlogs = await waitForLogs(topo, (e) => e.destinationPort === TCP_DISCARD && e.family === family, 1);
    t.ok(tlogs.length >= 1, `the SYN was logged (${tlogs.length} SYNs)`);
    for (const e of tlogs) expectInputLog(t, e, family, { term: 'tcp-discard', termId: 2, action: 'discard', protocol: 'tcp', destinationPort: TCP_DISCARD });
    t.equal(await slowDrops(topo, 'filter_discard'), before + 1 + tlogs.length, 'every discarded packet counted as filter_discard');

    // `syslog` sends the same event to the collectors too (RFC 5424, structured).
    const line = await syslogLine(new RegExp(`source-address="${a.client}" destination-address="${a.server}" source-port="${SPORT.discard}"`));
    t.ok(line, 'a syslog line for the datagram its `syslog` term discarded');
    t.notOk(messages().some((m) => m.includes(`destination-port="${TCP_DISCARD}"`) && m.includes(`source-address="${a.client}"`)),
      'none for the SYNs of the `log` term, though they were logged on the box over a second ago');
    t.match(line, /^<\d+>1 \S+ fw1 \S+ - \S+ \[junos@2636[^ ]* /, 'RFC 5424 with Junos structured data');
    for (const [k, v] of Object.entries({
      'interface-name': 'trust0', action: 'discard', 'protocol-id': '17', 'destination-port': String(ECHO),
      'filter-name': `in-${family}`, 'term-name': 'udp-discard', 'filter-source': 'input',
    })) t.equal(sd(line ?? '', k), v, `${k}="${v}"`);
    const sessions = await topo.xdpfwJson<Array<{ sourcePort: number; destinationPort: number }>>(['show', 'sessions']);
    t.notOk(sessions.some((s) => s.sourcePort === SPORT.discard || s.destinationPort === TCP_DISCARD), 'no session for discarded flows');
  });

  t.test(`${family}: input reject refuses at once and logs action reject`, async (t) => {
    const before = await slowDrops(topo, 'filter_reject');
    const c = await tcp(topo, 'client', a.server, TCP_REJECT, 100, 5000);
    t.notOk(c.ok);
    t.equal(c.error, 'ECONNREFUSED', 'TCP: the client sees the RST, not a timeout (the server listens on this port)');

    const port = await udp(topo, 'client', a.server, ECHO, SPORT.rejectPort, 3, { connect: true, timeoutMs: 3000, intervalMs: 500 });
    t.equal(port.error, 'ECONNREFUSED', 'UDP, reject port-unreachable: the connected socket reports a refusal');
    t.ok((port.ms ?? 1e9) < 2000, `and at once (${port.ms?.toFixed(0)} ms), not after the echo timeout`);
    t.equal(port.received, 0);

    const admin = await udp(topo, 'client', a.server, ECHO, SPORT.rejectAdmin, 3, { connect: true, timeoutMs: 3000, intervalMs: 500 });
    // ICMP administratively prohibited: Linux reports EHOSTUNREACH for IPv4, EACCES for IPv6.
    t.equal(admin.error, family === 'inet' ? 'EHOSTUNREACH' : 'EACCES', 'UDP, bare reject: administratively prohibited reaches the socket');
    t.ok((admin.ms ?? 1e9) < 2000, `at once (${admin.ms?.toFixed(0)} ms)`);

    const tl = await waitForLogs(topo, (e) => e.destinationPort === TCP_REJECT && e.family === family, 1);
    t.equal(tl.length, 1, 'one SYN, one event: the client did not retransmit');
    expectInputLog(t, tl[0], family, { term: 'tcp-reject', termId: 3, action: 'reject', protocol: 'tcp', destinationPort: TCP_REJECT });
    const pl = await filterLogs(topo, (e) => e.sourcePort === SPORT.rejectPort && e.family === family);
    // 500 ms between datagrams: the error normally ends the run after the first.
    t.ok(pl.length >= 1 && pl.length <= port.sent, `one event per datagram sent before the error (${pl.length})`);
    expectInputLog(t, pl[0], family, { term: 'udp-reject-port', termId: 4, action: 'reject', protocol: 'udp', sourcePort: SPORT.rejectPort, destinationPort: ECHO });
    const al = await filterLogs(topo, (e) => e.sourcePort === SPORT.rejectAdmin && e.family === family);
    t.ok(al.length >= 1 && al.length <= admin.sent, `one event per datagram sent before the error (${al.length})`);
    expectInputLog(t, al[0], family, { term: 'udp-reject', termId: 5, action: 'reject', protocol: 'udp', sourcePort: SPORT.rejectAdmin });
    t.equal(await slowDrops(topo, 'filter_reject'), before + tl.length + pl.length + al.length, 'every rejected packet counted as filter_reject');
  });

  t.test(`${family}: count counts exactly the packets of a flow, first (slow path) and established (XDP)`, async (t) => {
    const before = (await firewallCounter(topo, `in-${family}`, 'udp-in')) ?? { packets: 0, bytes: 0 };
    const n = 10;
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.count, n);
    t.equal(u.received, n, 'every datagram accepted and echoed');
    const after = await firewallCounter(topo, `in-${family}`, 'udp-in');
    t.equal(after?.packets, before.packets + n, `udp-in counted ${n} packets: the echoes arrive on untrust0, which has no filter`);
    // "ping 0" .. "ping 9": 6 bytes, plus UDP and IP headers.
    t.equal(after?.bytes, before.bytes + n * (6 + 8 + (family === 'inet' ? 20 : 40)), 'and their IP bytes');
    const s = (await topo.xdpfwJson<Array<{ sourcePort: number; packetsFromClient: number; family: string }>>(['show', 'sessions']))
      .find((x) => x.sourcePort === SPORT.count && x.family === family);
    t.equal(s?.packetsFromClient, n, 'one session carried them all (nine of them in XDP)');
    const other = await firewallCounter(topo, `in-${family === 'inet' ? 'inet6' : 'inet'}`, 'udp-in');
    t.ok(other !== undefined, 'the other family has its own counter');
  });

  t.test(`${family}: ping meets the echo term: discard, reject, count`, async (t) => {
    const icmpType = family === 'inet' ? 8 : 128;
    await apply(topo, config('discard; log;'), loaded);
    const dropped = await ping(topo, 'client', a.server, 1, 1);
    t.not(dropped.code, 0, 'ping fails');
    t.equal(dropped.received, 0, 'no reply');
    t.notMatch(dropped.stdout, /unreachable|prohibited|filtered/i, 'and no error came back: a silent drop');
    const dl = await waitForLogs(topo, (e) => e.family === family && e.term === 'echo' && e.action === 'discard', 1);
    t.equal(dl.length, 1);
    expectInputLog(t, dl[0], family, { term: 'echo', termId: 7, action: 'discard', protocol: family === 'inet' ? 'icmp' : 'icmp6', icmpType });

    await apply(topo, config('reject; log;'), loaded);
    const refused = await ping(topo, 'client', a.server, 1, 5);
    t.not(refused.code, 0, 'ping fails');
    t.match(refused.stdout, family === 'inet' ? /Packet filtered|prohibited/i : /Administratively prohibited/i, `ping reports the unreachable: ${refused.stdout.split('\n')[1] ?? ''}`);
    t.ok(refused.ms < 4000, `at once (${refused.ms} ms), not after the 5 s wait`);
    const rl = await waitForLogs(topo, (e) => e.family === family && e.term === 'echo' && e.action === 'reject', 1);
    t.equal(rl.length, 1);
    expectInputLog(t, rl[0], family, { term: 'echo', termId: 7, action: 'reject', protocol: family === 'inet' ? 'icmp' : 'icmp6', icmpType });

    await apply(topo, config('count echo-in; accept;'), loaded);
    const before = (await firewallCounter(topo, `in-${family}`, 'echo-in'))?.packets ?? 0;
    const counted = await ping(topo, 'client', a.server, 5);
    t.equal(counted.code, 0);
    t.equal(counted.received, 5, 'all five answered');
    t.equal((await firewallCounter(topo, `in-${family}`, 'echo-in'))?.packets, before + 5, 'echo-in counted the five requests (replies do not pass trust0 input)');
    await apply(topo, config('accept;'), loaded);
  });

  t.test(`${family}: a packet no term matches meets the implicit discard`, async (t) => {
    const before = await slowDrops(topo, 'filter_discard');
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.unmatched, 1, { timeoutMs: 800 });
    t.equal(u.received, 0, 'dropped');
    t.equal(await slowDrops(topo, 'filter_discard'), before + 1, 'as a filter discard');
    await sleep(300);
    t.same(await filterLogs(topo, (e) => e.sourcePort === SPORT.unmatched), [], 'the implicit discard does not log');
  });
}
