// Output filters on the egress interface, end to end: the client's flows to
// the server leave by untrust0, whose output filter judges them after the
// route and the policy. Both families, real traffic, what the operator reads.
import t, { type Test } from 'tap';
import { ADDR, Topology } from '../helpers/topology.js';
import {
  type FilterLogJson, apply, filterId, filterLogs, filtersConfig, firewallCounter, ping, slowDrops, tcp, udp, waitForLogs,
} from '../helpers/filters.js';

const ECHO = 5002;
const TCP_OPEN = 5001;
const TCP_REJECT = 6003;
const SPORT = { discard: 42001, rejectPort: 42002, logged: 42003 } as const;

function filter(family: 'inet' | 'inet6'): string {
  const proto = family === 'inet6' ? 'next-header' : 'protocol';
  const icmp = family === 'inet6' ? 'icmp6' : 'icmp';
  return `
        filter out-${family} {
            term udp-discard { from { ${proto} udp; source-port ${SPORT.discard}; } then { discard; log; } }
            term tcp-reject { from { ${proto} tcp; destination-port ${TCP_REJECT}; } then { reject; log; } }
            term udp-reject { from { ${proto} udp; source-port ${SPORT.rejectPort}; } then { reject port-unreachable; syslog; } }
            term udp-logged { from { ${proto} udp; source-port ${SPORT.logged}; } then { count logged; log; accept; } }
            term echo { from { ${proto} ${icmp}; icmp-type echo-request; } then { count echo-out; accept; } }
            term rest { then accept; }
        }`;
}

const CONFIG = filtersConfig(`
firewall {
    family inet {${filter('inet')}
    }
    family inet6 {${filter('inet6')}
    }
}
interfaces {
    untrust0 { unit 0 { family inet { filter { output out-inet; } } family inet6 { filter { output out-inet6; } } } }
}`);

let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  await apply(topo, CONFIG, { done: false });
  await topo.startTraffic('server', ['udp-echo', '--port', String(ECHO)]);
  for (const port of [TCP_OPEN, TCP_REJECT]) await topo.startTraffic('server', ['tcp-sink', '--port', String(port)]);
});
t.teardown(() => topo?.destroy());

const addrs = (family: 'inet' | 'inet6') =>
  family === 'inet' ? { client: ADDR.client4, server: ADDR.server4 } : { client: ADDR.client6, server: ADDR.server6 };

/** An output filter log of a packet from the client to the server: it came in on trust0 and was to leave by untrust0. */
function expectOutputLog(t: Test, e: FilterLogJson | undefined, family: 'inet' | 'inet6', want: {
  source: 'output' | 'cached-output'; term: string; termId: number; action: string; protocol: string; sourcePort?: number; destinationPort?: number;
}): void {
  const a = addrs(family);
  t.ok(e, `a ${want.source} FILTER_LOG event for term ${want.term}`);
  if (!e) return;
  t.match(e, {
    kind: 'filter-log', family,
    filter: `out-${family}`, filterId: filterId(family, 1), term: want.term, termId: want.termId,
    filterSource: want.source, action: want.action, protocolName: want.protocol,
    sourceAddress: a.client, destinationAddress: a.server,
    ingressInterface: 'trust0', egressInterface: 'untrust0', filterInterface: 'untrust0',
    sourceZone: 'trust', destinationZone: 'untrust',
  });
  if (want.sourcePort !== undefined) t.equal(e.sourcePort, want.sourcePort, 'source port');
  if (want.destinationPort !== undefined) t.equal(e.destinationPort, want.destinationPort, 'destination port');
}

for (const family of ['inet', 'inet6'] as const) {
  const a = addrs(family);

  t.test(`${family}: other traffic leaves untrust0 as before`, async (t) => {
    t.equal((await udp(topo, 'client', a.server, ECHO, 40000, 3)).received, 3, 'UDP echoed');
    const c = await tcp(topo, 'client', a.server, TCP_OPEN);
    t.ok(c.ok, `TCP works (${c.error ?? ''})`);
  });

  t.test(`${family}: output discard drops after the policy permitted, and logs source output`, async (t) => {
    const before = await slowDrops(topo, 'filter_discard');
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.discard, 1);
    t.equal(u.received, 0, 'the datagram never left untrust0');
    const logs = await waitForLogs(topo, (e) => e.family === family && e.sourcePort === SPORT.discard, 1);
    t.equal(logs.length, 1, 'one event');
    expectOutputLog(t, logs[0], family, { source: 'output', term: 'udp-discard', termId: 1, action: 'discard', protocol: 'udp', sourcePort: SPORT.discard, destinationPort: ECHO });
    t.equal(logs[0]?.sessionId, 0, 'no session: the flow was never installed');
    t.equal(await slowDrops(topo, 'filter_discard'), before + 1, 'counted as filter_discard');
  });

  t.test(`${family}: output reject answers the client at once, and logs source output`, async (t) => {
    const before = await slowDrops(topo, 'filter_reject');
    const c = await tcp(topo, 'client', a.server, TCP_REJECT, 100, 5000);
    t.notOk(c.ok);
    t.equal(c.error, 'ECONNREFUSED', 'TCP: RST back through trust0, though the server listens');
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.rejectPort, 3, { connect: true, timeoutMs: 3000, intervalMs: 500 });
    t.equal(u.error, 'ECONNREFUSED', 'UDP: port unreachable reaches the connected socket');
    t.ok((u.ms ?? 1e9) < 2000, `at once (${u.ms?.toFixed(0)} ms)`);
    const tl = await waitForLogs(topo, (e) => e.family === family && e.destinationPort === TCP_REJECT, 1);
    t.equal(tl.length, 1);
    expectOutputLog(t, tl[0], family, { source: 'output', term: 'tcp-reject', termId: 2, action: 'reject', protocol: 'tcp', destinationPort: TCP_REJECT });
    const ul = await filterLogs(topo, (e) => e.family === family && e.sourcePort === SPORT.rejectPort);
    t.ok(ul.length >= 1 && ul.length <= u.sent, `\`syslog\` logs too, once per datagram sent before the error (${ul.length})`);
    expectOutputLog(t, ul[0], family, { source: 'output', term: 'udp-reject', termId: 3, action: 'reject', protocol: 'udp', sourcePort: SPORT.rejectPort });
    t.equal(await slowDrops(topo, 'filter_reject'), before + tl.length + ul.length, 'every rejected packet counted as filter_reject');
  });

  t.test(`${family}: an established flow replays the output verdict per packet: cached-output logs and counts`, async (t) => {
    const n = 8;
    const before = (await firewallCounter(topo, `out-${family}`, 'logged'))?.packets ?? 0;
    const u = await udp(topo, 'client', a.server, ECHO, SPORT.logged, n);
    t.equal(u.received, n, 'accepted: every datagram echoed');
    const logs = await waitForLogs(topo, (e) => e.family === family && e.sourcePort === SPORT.logged, n);
    t.equal(logs.length, n, 'one event per packet, none for the echoes (they leave by trust0)');
    const first = logs.filter((e) => e.filterSource === 'output');
    const cached = logs.filter((e) => e.filterSource === 'cached-output');
    t.equal(first.length, 1, 'the first packet judged by the slow path');
    t.equal(cached.length, n - 1, 'the others replayed in XDP');
    expectOutputLog(t, first[0], family, { source: 'output', term: 'udp-logged', termId: 4, action: 'accept', protocol: 'udp', sourcePort: SPORT.logged, destinationPort: ECHO });
    const session = (await topo.xdpfwJson<Array<{ sessionId: number; sourcePort: number; family: string }>>(['show', 'sessions']))
      .find((s) => s.sourcePort === SPORT.logged && s.family === family);
    t.ok(session, 'the flow is a session');
    for (const e of cached) {
      expectOutputLog(t, e, family, { source: 'cached-output', term: 'udp-logged', termId: 4, action: 'accept', protocol: 'udp', sourcePort: SPORT.logged, destinationPort: ECHO });
      t.equal(e.sessionId, session?.sessionId, 'naming the session it replayed');
    }
    t.equal((await firewallCounter(topo, `out-${family}`, 'logged'))?.packets, before + n, `count: ${n} packets, slow path and XDP together`);
  });

  t.test(`${family}: count on output counts each echo request of a ping once`, async (t) => {
    const before = (await firewallCounter(topo, `out-${family}`, 'echo-out'))?.packets ?? 0;
    const p = await ping(topo, 'client', a.server, 4);
    t.equal(p.received, 4, 'answered');
    t.equal((await firewallCounter(topo, `out-${family}`, 'echo-out'))?.packets, before + 4, 'echo-out = 4');
  });
}
