// The lo0 filter (the box itself), end to end: a TCP service and ping on the
// firewall, reached from the zone the filter admits and blocked from the one
// it does not, before the kernel sees a byte; zone host-inbound-traffic still
// decides first. Both families.
import t from 'tap';
import { ADDR, Topology } from '../helpers/topology.js';
import {
  type FilterLogJson, apply, filterId, filtersConfig, firewallCounter, ping, sleep, slowDrops, tcp, waitForLogs,
} from '../helpers/filters.js';

const HTTP = 80;
/** Listening on the firewall, but no zone's host-inbound-traffic admits it. */
const UNLISTED = 8080;

type Mode = 'reject' | 'discard' | 'accept-all';

function filter(family: 'inet' | 'inet6', mode: Mode): string {
  const v6 = family === 'inet6';
  const proto = v6 ? 'next-header' : 'protocol';
  const icmp = v6 ? 'icmp6' : 'icmp';
  if (mode === 'accept-all') return `filter lo0-${family} { term all { then accept; } }`;
  const then = mode === 'reject' ? 'reject; log;' : 'discard; log;';
  return `
        filter lo0-${family} {
            term from-trust { from { source-address { ${v6 ? 'fd00:1::/64' : '10.1.0.0/24'}; } } then { count from-trust; log; accept; } }
            term untrust-http { from { source-address { ${v6 ? 'fd00:2::/64' : '10.2.0.0/24'}; } ${proto} tcp; destination-port http; } then { ${then} } }
            term untrust-ping { from { source-address { ${v6 ? 'fd00:2::/64' : '10.2.0.0/24'}; } ${proto} ${icmp}; icmp-type echo-request; } then { ${then} } }
        }`;
}

function config(mode: Mode): string {
  return filtersConfig(`
firewall {
    family inet { ${filter('inet', mode)} }
    family inet6 { ${filter('inet6', mode)} }
}
interfaces {
    lo0 { unit 0 { family inet { filter { input lo0-inet; } } family inet6 { filter { input lo0-inet6; } } } }
}`, { trustServices: 'ping; http;', untrustServices: 'ping; http;' });
}

let topo: Topology;
const loaded = { done: false };
/** The mode running; a test that needs it running already spares a reload. */
let running: Mode | undefined;

async function use(mode: Mode): Promise<void> {
  if (running === mode) return;
  await apply(topo, config(mode), loaded);
  running = mode;
}

t.before(async () => {
  topo = await Topology.create();
  await use('reject');
  for (const port of [HTTP, UNLISTED]) await topo.startTraffic('fw', ['tcp-sink', '--port', String(port)]);
});
t.teardown(() => topo?.destroy());

const fwAddrs = (family: 'inet' | 'inet6') => family === 'inet'
  ? { trustSide: ADDR.fwTrust4, untrustSide: ADDR.fwUntrust4, client: ADDR.client4, server: ADDR.server4 }
  : { trustSide: ADDR.fwTrust6, untrustSide: ADDR.fwUntrust6, client: ADDR.client6, server: ADDR.server6 };

for (const family of ['inet', 'inet6'] as const) {
  const a = fwAddrs(family);
  const lo0 = `lo0-${family}`;
  const icmpType = family === 'inet' ? 8 : 128;

  t.test(`${family}: from the admitted zone the box answers; every packet logged lo0, then cached-lo0, and counted`, async (t) => {
    await use('reject');
    const before = (await firewallCounter(topo, lo0, 'from-trust'))?.packets ?? 0;
    const c = await topo.traffic<{ ok: boolean; received: number; localPort: number; error?: string }>('client',
      ['tcp-send', '--host', a.trustSide, '--port', String(HTTP), '--bytes', '3000', '--timeout', '3000']);
    t.ok(c.ok, `the TCP service on the firewall answered (${c.error ?? ''})`);
    t.equal(c.received, 3000, 'and got every byte');
    const p = await ping(topo, 'client', a.untrustSide, 3);
    t.equal(p.received, 3, 'ping to the firewall\'s other address answered');

    const logs = await waitForLogs(topo, (e) => e.family === family && e.sourcePort === c.localPort && e.destinationPort === HTTP, 4, 1500);
    const first = logs.filter((e) => e.filterSource === 'lo0');
    const cached = logs.filter((e) => e.filterSource === 'cached-lo0');
    t.equal(first.length, 1, 'the SYN: source lo0 (slow path)');
    t.ok(cached.length >= 3, `the rest of the connection: cached-lo0, per packet (${cached.length})`);
    t.equal(first.length + cached.length, logs.length, 'nothing else');
    for (const e of logs) {
      t.match(e, {
        filter: lo0, filterId: filterId(family, 1), term: 'from-trust', termId: 1, action: 'accept', protocolName: 'tcp',
        sourceAddress: a.client, destinationAddress: a.trustSide, ingressInterface: 'trust0', filterInterface: 'trust0', sourceZone: 'trust',
      }, `${e.filterSource} event`);
    }
    const pings = await waitForLogs(topo, (e) => e.family === family && e.destinationAddress === a.untrustSide && e.icmpType === icmpType && e.sourceAddress === a.client, 3);
    t.same(pings.map((e) => e.filterSource), ['lo0', 'cached-lo0', 'cached-lo0'], 'three echo requests: lo0, then two replayed');
    t.ok(pings.every((e) => e.sourceZone === 'trust' && e.term === 'from-trust'));
    const after = (await firewallCounter(topo, lo0, 'from-trust'))?.packets ?? 0;
    t.equal(after - before, logs.length + pings.length, 'the counter saw exactly the logged packets');
  });

  t.test(`${family}: lo0 reject: the TCP service refuses and ping reports unreachable from the zone the filter rejects`, async (t) => {
    await use('reject');
    const drops = await slowDrops(topo, 'filter_reject');
    const c = await tcp(topo, 'server', a.untrustSide, HTTP, 100, 5000);
    t.notOk(c.ok);
    t.equal(c.error, 'ECONNREFUSED', 'refused at once, though the service listens and host-inbound-traffic admits http');
    const p = await ping(topo, 'server', a.untrustSide, 1, 5);
    t.not(p.code, 0);
    t.equal(p.received, 0);
    t.match(p.stdout, family === 'inet' ? /Packet filtered|prohibited/i : /Administratively prohibited/i, 'ping reports the unreachable');
    t.ok(p.ms < 4000, `at once (${p.ms} ms)`);
    const logs = await waitForLogs(topo, (e: FilterLogJson) => e.family === family && e.sourceAddress === a.server && e.action === 'reject', 2);
    t.equal(logs.length, 2, 'one SYN, one echo request');
    t.match(logs.find((e) => e.protocolName === 'tcp'), {
      filterSource: 'lo0', filter: lo0, term: 'untrust-http', termId: 2, destinationAddress: a.untrustSide, destinationPort: HTTP,
      ingressInterface: 'untrust0', filterInterface: 'untrust0', sourceZone: 'untrust', sessionId: 0,
    });
    t.match(logs.find((e) => e.protocolName !== 'tcp'), {
      filterSource: 'lo0', filter: lo0, term: 'untrust-ping', termId: 3, icmpType, ingressInterface: 'untrust0', sourceZone: 'untrust',
    });
    t.equal(await slowDrops(topo, 'filter_reject'), drops + 2);
  });

  t.test(`${family}: lo0 discard: the kernel never sees the blocked packets (the client times out)`, async (t) => {
    await use('discard');
    const drops = await slowDrops(topo, 'filter_discard');
    const c = await tcp(topo, 'server', a.untrustSide, HTTP, 100, 1500);
    t.notOk(c.ok);
    t.equal(c.error, 'ETIMEDOUT', 'no SYN-ACK: the listening service never saw the SYN');
    const p = await ping(topo, 'server', a.untrustSide, 1, 1);
    t.equal(p.received, 0, 'no echo reply');
    t.notMatch(p.stdout, /unreachable|prohibited|filtered/i, 'and no error: silence');
    const logs = await waitForLogs(topo, (e) => e.family === family && e.sourceAddress === a.server && e.action === 'discard', 2);
    t.ok(logs.length >= 2, `SYN(s) and the echo request logged (${logs.length})`);
    t.ok(logs.every((e) => e.filterSource === 'lo0' && e.filter === lo0 && e.sourceZone === 'untrust' && e.ingressInterface === 'untrust0'), 'as lo0 discards in zone untrust');
    t.ok(logs.some((e) => e.term === 'untrust-http' && e.destinationPort === HTTP));
    t.ok(logs.some((e) => e.term === 'untrust-ping' && e.icmpType === icmpType));
    t.equal(await slowDrops(topo, 'filter_discard'), drops + logs.length, 'each counted as filter_discard');
    const ok = await tcp(topo, 'client', a.trustSide, HTTP);
    t.ok(ok.ok, 'the admitted zone still gets through');
  });

  t.test(`${family}: host-inbound-traffic decides first: an unlisted service stays closed under an accepting lo0 filter`, async (t) => {
    await use('accept-all');
    const open = await tcp(topo, 'server', a.untrustSide, HTTP);
    t.ok(open.ok, `with the lo0 filter accepting, http from untrust works (${open.error ?? ''})`);
    const denied = await slowDrops(topo, 'host_inbound_denied');
    const c = await tcp(topo, 'client', a.trustSide, UNLISTED, 100, 1500);
    t.notOk(c.ok);
    t.equal(c.error, 'ETIMEDOUT', 'port 8080 is listening but not a host-inbound service of trust: dropped');
    t.ok(await slowDrops(topo, 'host_inbound_denied') > denied, 'counted as host_inbound_denied');
    await sleep(300);
    const sessions = await topo.xdpfwJson<Array<{ destinationPort: number }>>(['show', 'sessions']);
    t.notOk(sessions.some((s) => s.destinationPort === UNLISTED), 'no session to it');
  });
}
