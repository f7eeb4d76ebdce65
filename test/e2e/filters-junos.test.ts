// Junos filter and application features end to end, one daemon: an lo0
// filter written without `family` rate-limits ping to the box with a
// policer (drops counted per policer in show firewall, show counters and
// metrics); a trust0 input filter, also without family, discards the
// datagrams of an established UDP flow whose TTL or length its terms
// name, and only those; an application's inactivity-timeout is the
// session's timeout (show sessions) and the session ends by it.
import { resolve } from 'node:path';
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { FirewallReport } from '../../lib/filter/report.js';
import { packageRoot } from '../../lib/util/paths.js';
import { ADDR, Topology } from '../helpers/topology.js';
import { apply, firewallCounter, sleep } from '../helpers/filters.js';

const ECHO = 5002;
const SHORT = 5003;
const SPORT = 44301;
const PATTERN = resolve(packageRoot, 'test', 'helpers', 'udp-pattern.py');
const SHORT_TIMEOUT = 10;

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy short-lived {
                match { source-address any; destination-address any; application short-set; }
                then { permit; }
            }
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { udp 120; icmp 120; } }
}
applications {
    application short-udp {
        term echo protocol udp destination-port ${SHORT};
        inactivity-timeout ${SHORT_TIMEOUT};
    }
    application-set inner { application short-udp; }
    application-set short-set { application-set inner; }
}
firewall {
    policer ping-limit {
        if-exceeding { bandwidth-limit 8k; burst-size-limit 1500; }
        then discard;
    }
    filter protect-re {
        term icmp { from { protocol icmp; } then { policer ping-limit; count icmp; accept; } }
        term rest { then accept; }
    }
    filter in-trust {
        term low-ttl { from { protocol udp; ttl 1-10; } then { count low-ttl; discard; } }
        term big { from { protocol udp; packet-length 1000-65535; } then { count big; discard; } }
        term rest { then accept; }
    }
}
interfaces {
    trust0 { unit 0 { family inet { filter { input in-trust; } } } }
    lo0 { unit 0 { family inet { filter { input protect-re; } } } }
}`;

let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  await apply(topo, CONFIG, { done: false });
  await topo.startTraffic('server', ['udp-echo', '--port', String(ECHO)]);
  await topo.startTraffic('server', ['udp-echo', '--port', String(SHORT)]);
});
t.teardown(() => topo?.destroy());

const policerDrops = async (): Promise<{ packets: number; bytes: number }> => {
  const r = await topo.xdpfwJson<FirewallReport>(['show', 'firewall']);
  const p = r.filters.find((f) => f.name === 'protect-re')?.policers.find((x) => x.name === 'ping-limit-icmp');
  return { packets: p?.packets ?? -1, bytes: p?.bytes ?? -1 };
};

t.test('an lo0 filter without family rate-limits ping to the box with a policer', async (t) => {
  const report = await topo.xdpfwJson<FirewallReport>(['show', 'firewall']);
  const f = report.filters.find((x) => x.name === 'protect-re')!;
  t.same([f.family, f.attachedTo], ['inet', ['lo0 input']], 'family inet, on lo0');
  t.same(f.policers.map((p) => [p.name, p.bandwidthLimit, p.burstSizeLimit, p.packets]), [['ping-limit-icmp', 8000, 1500, 0]], 'its policer, nothing dropped yet');
  // 40 echo requests of 500 IP bytes, 10 ms apart: the bucket holds 3 and refills 2 a second.
  const sent = 40;
  const r = await topo.exec('client', 'ping', ['-4', '-n', '-q', '-c', String(sent), '-i', '0.01', '-s', String(500 - 28), '-W', '2', ADDR.fwTrust4]);
  const received = Number(/(\d+) (?:packets )?received/.exec(r.stdout)?.[1] ?? -1);
  t.ok(received >= 3, `${received} of ${sent} answered: the burst went through`);
  t.ok(received < sent / 2, `${sent - received} not answered: the rest was policed`);
  const drops = await policerDrops();
  t.equal(drops.packets, sent - received, 'show firewall: the policer dropped exactly the unanswered requests');
  t.equal(drops.bytes, 500 * drops.packets, 'in IP bytes');
  const icmp = await firewallCounter(topo, 'protect-re', 'icmp');
  t.equal(icmp?.packets, sent, 'the term counted every request, policed or not');
  const counters = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(counters.drops.filter_policer, drops.packets, 'show counters: XDP\'s policer drops');
  const metrics = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  const line = metrics.body.split('\n').find((l) => l.startsWith('xdpfw_filter_policer_dropped_packets_total{') && l.includes('policer="ping-limit-icmp"'));
  t.match(line, /filter="protect-re"/, 'metrics: by filter ...');
  t.equal(Number(line?.split(' ').at(-1)), drops.packets, '... the policer\'s drops');
  const text = await topo.xdpfw(['show', 'firewall']);
  t.match(text.stdout, /Policers \(packets beyond the limits, discarded\):\n.*\nping-limit-icmp\s+\d+\s+\d+/, 'show firewall lists it');
});

t.test('a reload refills the buckets with the new limits and keeps the drop totals', async (t) => {
  const before = await policerDrops();
  t.ok(before.packets > 0, `${before.packets} dropped before`);
  await apply(topo, CONFIG.replace('burst-size-limit 1500;', 'burst-size-limit 5000;'), { done: true });
  const report = await topo.xdpfwJson<FirewallReport>(['show', 'firewall']);
  const p = report.filters.find((f) => f.name === 'protect-re')!.policers[0]!;
  t.same([p.burstSizeLimit, p.packets, p.bytes], [5000, before.packets, before.bytes], 'the new burst; the totals carried');
  const sent = 40;
  const r = await topo.exec('client', 'ping', ['-4', '-n', '-q', '-c', String(sent), '-i', '0.01', '-s', String(500 - 28), '-W', '2', ADDR.fwTrust4]);
  const received = Number(/(\d+) (?:packets )?received/.exec(r.stdout)?.[1] ?? -1);
  t.ok(received >= 10, `${received} of ${sent} answered: a full bucket of 5000 bytes holds 10`);
  t.ok(received < sent, 'the rest policed');
  t.equal((await policerDrops()).packets, before.packets + sent - received, 'drops add to the carried total');
});

t.test('ttl and packet-length terms drop exactly their datagrams of an established UDP flow', async (t) => {
  // size:dscp:ttl; the first opens the session.
  const pattern: Array<[number, number, number]> = [[100, 0, 64], [100, 0, 5], [1200, 0, 64], [100, 0, 64], [100, 0, 10], [300, 0, 11], [1100, 0, 3], [64, 0, 64]];
  const low0 = (await firewallCounter(topo, 'in-trust', 'low-ttl'))?.packets ?? 0;
  const big0 = (await firewallCounter(topo, 'in-trust', 'big'))?.packets ?? 0;
  const r = await topo.exec('client', 'python3', [PATTERN, ADDR.server4, String(ECHO), String(SPORT), ...pattern.map((p) => p.join(':'))]);
  t.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { echoed: number[] };
  const low = pattern.map(([, , ttl], i) => [i, ttl <= 10] as const).filter(([, l]) => l).map(([i]) => i);
  const big = pattern.map(([size, , ttl], i) => [i, ttl > 10 && size + 28 >= 1000] as const).filter(([, b]) => b).map(([i]) => i);
  t.same(got.echoed, pattern.map((_, i) => i).filter((i) => !low.includes(i) && !big.includes(i)), 'echoed: exactly the datagrams neither term names');
  t.equal(((await firewallCounter(topo, 'in-trust', 'low-ttl'))?.packets ?? 0) - low0, low.length, '`low-ttl` counted the TTL 10 and below');
  t.equal(((await firewallCounter(topo, 'in-trust', 'big'))?.packets ?? 0) - big0, big.length, '`big` counted the large ones');
});

interface SessionJson { sessionId: number; destinationPort: number; sourcePort: number; timeoutSeconds: number; policy: string }

t.test('an application\'s inactivity-timeout is its sessions\' timeout', async (t) => {
  const r2 = await topo.exec('client', 'python3', [PATTERN, ADDR.server4, String(ECHO), String(SPORT + 2), '100:0']);
  t.equal(r2.code, 0, r2.stderr);
  const r = await topo.exec('client', 'python3', [PATTERN, ADDR.server4, String(SHORT), String(SPORT + 1), '100:0']);
  t.equal(r.code, 0, r.stderr);
  t.same((JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { echoed: number[] }).echoed, [0], 'answered');
  const sessions = await topo.xdpfwJson<SessionJson[]>(['show', 'sessions']);
  const short = sessions.find((s) => s.destinationPort === SHORT && s.sourcePort === SPORT + 1);
  const other = sessions.find((s) => s.destinationPort === ECHO && s.sourcePort === SPORT + 2);
  t.same([short?.policy, short?.timeoutSeconds], ['short-lived', SHORT_TIMEOUT], 'show sessions: the application\'s timeout, through a set within a set');
  t.same([other?.policy, other?.timeoutSeconds], ['allow-out', 120], 'another flow keeps the udp timeout');
  // It ends by that timeout (generous limit: expiry runs on a loaded machine).
  if (!short) return;
  let gone = false;
  for (let k = 0; k < 120 && !gone; k++) {
    await sleep(500);
    const now = await topo.xdpfwJson<SessionJson[]>(['show', 'sessions']);
    gone = !now.some((s) => s.sessionId === short?.sessionId);
    if (gone) t.ok(now.some((s) => s.sessionId === other?.sessionId), 'the udp-timeout session is still there');
  }
  t.ok(gone, 'the session closed when idle past its application\'s inactivity-timeout');
});
