// Filter terms on per-packet fields, end to end: a term on tcp-flags, dscp
// (traffic-class) or packet-length judges every packet of an established
// flow on its own, not once for the flow. Over TCP connections a
// `syn & !ack` term counts exactly the SYNs and the next term every other
// segment the client sent; in one UDP flow whose datagrams differ in size
// and DSCP, exactly the large ones are rejected (XDP hands them to the slow
// path, which answers) and the EF ones discarded (and logged by their term),
// the others echoed.
import { resolve } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../lib/util/paths.js';
import { ADDR, Topology } from '../helpers/topology.js';
import { apply, filterId, filtersConfig, firewallCounter, slowDrops, tcp, waitForLogs } from '../helpers/filters.js';

const ECHO = 5002;
const TCP_SINK = 5001;
const SPORT = { inet: 44001, inet6: 44002 } as const;
/** A flow whose filter has more per-packet terms than XDP runs: the slow path judges each packet. */
const MANY_SPORT = { inet: 44101, inet6: 44102 } as const;
/** DSCPs the `many` terms discard. */
const MANY_DSCPS = [1, 2, 3, 4, 5, 6, 7, 9, 11, 12];
const PATTERN = resolve(packageRoot, 'test', 'helpers', 'udp-pattern.py');
const EF = 46;

function filter(family: 'inet' | 'inet6', efName = 'ef'): string {
  const proto = family === 'inet6' ? 'next-header' : 'protocol';
  const dscp = family === 'inet6' ? 'traffic-class' : 'dscp';
  const many = MANY_DSCPS.map((d) => `
            term many-${d} { from { ${proto} udp; source-port ${MANY_SPORT[family]}; ${dscp} ${d}; } then { count many; discard; } }`).join('');
  return `
        filter in-${family} {${many}

            term syns { from { ${proto} tcp; destination-port ${TCP_SINK}; tcp-flags "syn & !ack"; } then { count syns; accept; } }
            term tcp-rest { from { ${proto} tcp; destination-port ${TCP_SINK}; } then { count tcp-rest; accept; } }
            term big { from { ${proto} udp; packet-length 1000-65535; } then { count big; reject; } }
            term ef { from { ${proto} udp; ${dscp} ${efName}; } then { count ef; log; discard; } }
            term rest { then { count rest; accept; } }
        }`;
}

const config = (efName?: string): string => filtersConfig(`
firewall {
    family inet {${filter('inet', efName)}
    }
    family inet6 {${filter('inet6', efName)}
    }
}
interfaces {
    trust0 { unit 0 { family inet { filter { input in-inet; } } family inet6 { filter { input in-inet6; } } } }
}`);
const CONFIG = config();
const loaded = { done: false };

let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  await apply(topo, CONFIG, loaded);
  await topo.startTraffic('server', ['udp-echo', '--port', String(ECHO)]);
  await topo.startTraffic('server', ['tcp-sink', '--port', String(TCP_SINK)]);
});
t.teardown(() => topo?.destroy());

/** TCP segments the client's kernel has sent (Tcp OutSegs of its namespace, both families). */
async function clientTcpSegments(): Promise<number> {
  const r = await topo.exec('client', 'cat', ['/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('OutSegs')]);
}

const counter = async (family: string, name: string): Promise<number> => (await firewallCounter(topo, `in-${family}`, name))?.packets ?? 0;

for (const family of ['inet', 'inet6'] as const) {
  const server = family === 'inet' ? ADDR.server4 : ADDR.server6;

  t.test(`${family}: tcp-flags "syn & !ack" counts the SYNs of TCP connections, the next term every other segment`, async (t) => {
    const connections = 3;
    const syns0 = await counter(family, 'syns');
    const rest0 = await counter(family, 'tcp-rest');
    const segs0 = await clientTcpSegments();
    for (let i = 0; i < connections; i++) {
      const r = await tcp(topo, 'client', server, TCP_SINK, 3000, 5000);
      t.ok(r.ok, `connection ${i + 1} through the firewall: ${r.error ?? `${r.received} bytes`}`);
    }
    const sent = (await clientTcpSegments()) - segs0;
    // The last ACKs may still be on their way through the slow path: wait for the totals to add up.
    let syns = 0;
    let rest = 0;
    for (let k = 0; k < 50; k++) {
      syns = (await counter(family, 'syns')) - syns0;
      rest = (await counter(family, 'tcp-rest')) - rest0;
      if (syns + rest >= sent) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(syns, connections, 'one SYN per connection, counted by `syns`');
    t.ok(rest >= 4 * connections, `${rest} other segments (ACKs, data, FINs) counted by \`tcp-rest\``);
    t.equal(syns + rest, sent, `every one of the ${sent} segments the client sent was counted once, by the term its flags match`);
  });

  t.test(`${family}: in one UDP flow, only the datagrams that are large (rejected) or EF (discarded) are dropped`, async (t) => {
    // size:dscp; the first (small, best effort) opens the session.
    const pattern: Array<[number, number]> = [[100, 0], [1200, 0], [100, 0], [100, EF], [300, 10], [1400, EF], [100, EF], [200, 0], [1100, 8], [64, 0]];
    const dropped = pattern.map(([size, dscp], i) => ({ i, big: size + (family === 'inet' ? 28 : 48) >= 1000, ef: dscp === EF }));
    const big0 = await counter(family, 'big');
    const rejected0 = await slowDrops(topo, 'filter_reject');
    const ef0 = await counter(family, 'ef');
    const r = await topo.exec('client', 'python3', [PATTERN, server, String(ECHO), String(SPORT[family]), ...pattern.map(([s, d]) => `${s}:${d}`)]);
    t.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { sent: number; echoed: number[] };
    t.same(got.echoed, dropped.filter((d) => !d.big && !d.ef).map((d) => d.i), 'echoed: exactly the small, non-EF datagrams');
    t.equal((await counter(family, 'big')) - big0, dropped.filter((d) => d.big).length, '`big` counted each large datagram, once');
    t.equal((await slowDrops(topo, 'filter_reject')) - rejected0, dropped.filter((d) => d.big).length, 'each large one rejected by the slow path');
    t.equal((await counter(family, 'ef')) - ef0, dropped.filter((d) => !d.big && d.ef).length, '`ef` counted each small EF datagram');
    const efSent = dropped.filter((d) => !d.big && d.ef).length;
    const logs = await waitForLogs(topo, (e) => e.family === family && e.sourcePort === SPORT[family], efSent);
    t.equal(logs.length, efSent, 'one log per EF datagram, nothing for the others');
    for (const e of logs) {
      t.match(e, { filterId: filterId(family, 1), term: 'ef', termId: MANY_DSCPS.length + 4, action: 'discard', filterSource: 'cached-input' }, 'logged by XDP with its own term');
    }
  });
}

/** Sends `pattern` (size:dscp) in one flow from `sport`; the numbers echoed. */
async function pattern(server: string, sport: number, datagrams: Array<[number, number]>): Promise<number[]> {
  const r = await topo.exec('client', 'python3', [PATTERN, server, String(ECHO), String(sport), ...datagrams.map(([s, d]) => `${s}:${d}`)]);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { echoed: number[] }).echoed;
}

const xdpCounter = async (name: string): Promise<number> =>
  (await topo.xdpfwJson<{ xdp: Record<string, { packets: number } | undefined> }>(['show', 'counters'])).xdp[name]?.packets ?? 0;

t.test('a flow with more per-packet terms than XDP runs: the slow path judges each of its packets, exactly', async (t) => {
  for (const family of ['inet', 'inet6'] as const) {
    const server = family === 'inet' ? ADDR.server4 : ADDR.server6;
    const dscps = [0, 3, 0, 12, 10, 9, 0, 63, 1, 0];
    const slow0 = await xdpCounter('filterProgramSlowPath');
    const many0 = await counter(family, 'many');
    const echoed = await pattern(server, MANY_SPORT[family], dscps.map((d) => [100, d]));
    const discarded = dscps.map((d, i) => ({ d, i })).filter(({ d }) => MANY_DSCPS.includes(d));
    t.same(echoed, dscps.map((d, i) => ({ d, i })).filter(({ d }) => !MANY_DSCPS.includes(d)).map(({ i }) => i), `${family}: echoed exactly the datagrams no term discards`);
    t.equal((await counter(family, 'many')) - many0, discarded.length, `${family}: each discarded datagram counted once`);
    t.equal((await xdpCounter('filterProgramSlowPath')) - slow0, dscps.length - 1, `${family}: every packet after the first went up from XDP`);
  }
  const fw = await topo.xdpfwJson<{ programs?: { used: number; capacity: number; tableFull: number } }>(['show', 'firewall']);
  t.ok((fw.programs?.used ?? 0) >= 2 && fw.programs?.capacity === 4095 && fw.programs?.tableFull === 0, `show firewall --json: ${JSON.stringify(fw.programs)}`);
  const text = await topo.xdpfw(['show', 'firewall']);
  t.match(text.stdout, /Per-packet term programs: \d+ of 4095 in use, 0 found the table full/);
});

t.test('a reload re-judges the per-packet terms of running flows', async (t) => {
  for (const family of ['inet', 'inet6'] as const) {
    const server = family === 'inet' ? ADDR.server4 : ADDR.server6;
    // The flow of the test above, still a session: EF was discarded, AF11 passed.
    const datagrams: Array<[number, number]> = [[100, 0], [100, EF], [100, 10], [100, 0]];
    t.same(await pattern(server, SPORT[family], datagrams), [0, 2, 3], `${family}: before the reload EF is discarded`);
  }
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(config('af11')), '--json']);
  t.equal(r.code, 0, r.stderr);
  t.ok((JSON.parse(r.stdout) as { sessions: { refiltered: number } }).sessions.refiltered >= 2, 'the running flows got new programs');
  for (const family of ['inet', 'inet6'] as const) {
    const server = family === 'inet' ? ADDR.server4 : ADDR.server6;
    t.same(await pattern(server, SPORT[family], [[100, 0], [100, EF], [100, 10], [100, 0]]), [0, 1, 3], `${family}: after it, AF11 is discarded and EF passes, in the same flow`);
  }
});

t.test('a restarted daemon adopts flows with their programs and never overwrites them', async (t) => {
  const pid = (await topo.xdpfwJson<{ pid: number }>(['status'])).pid;
  process.kill(pid, 'SIGKILL');
  const datagrams: Array<[number, number]> = [[100, 0], [100, EF], [100, 10], [100, 0]];
  // The flows of the reload test: AF11 is discarded since the reload.
  t.same(await pattern(ADDR.server4, SPORT.inet, datagrams), [0, 1, 3], 'with the daemon dead, XDP still runs the flow\'s program');
  const restart = await topo.xdpfw(['load', '-c', topo.writeConfig(config('af11'))]);
  t.equal(restart.code, 0, `daemon restarted (${restart.stderr})`);
  // New flows intern programs in the new daemon, which knows nothing of the pinned ones.
  for (const [k, family] of (['inet', 'inet6'] as const).entries()) {
    const server = family === 'inet' ? ADDR.server4 : ADDR.server6;
    t.same(await pattern(server, 44200 + k, [[100, 0], [1200, 0], [100, 10], [100, EF]]), [0, 3], `${family}: a new flow gets its program`);
  }
  for (const family of ['inet', 'inet6'] as const) {
    const server = family === 'inet' ? ADDR.server4 : ADDR.server6;
    t.same(await pattern(server, SPORT[family], datagrams), [0, 1, 3], `${family}: the adopted flow still runs its own program`);
  }
});
