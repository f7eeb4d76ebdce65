// `xdpfw monitor packet-drop` end to end: real crafted packets from the
// client through the real daemon; watchers are the real CLI. A policy deny
// (slow path), a land attack (an XDP screen) and an input-filter discard
// each appear once, with their reason, stage, rule and 5-tuple; the filters
// select; under a flood the watcher is told exactly how many it was not shown.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { DropEntry } from '../../lib/monitor/drop-entry.js';
import { packageRoot } from '../../lib/util/paths.js';
import { frame } from '../helpers/packets.js';
import { ADDR, Topology } from '../helpers/topology.js';

const CONFIG = `
firewall {
    family inet {
        filter in-trust {
            term no-9999 { from { protocol udp; destination-port 9999; } then { discard; } }
            term rest { then accept; }
        }
    }
}
interfaces {
    trust0 { unit 0 { family inet { filter { input in-trust; } } } }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } screen guard; }
        security-zone untrust { interfaces { untrust0; } }
    }
    screen { ids-option guard { tcp { land; } } }
    policies {
        from-zone trust to-zone untrust {
            policy deny-telnet {
                match { source-address any; destination-address any; application junos-telnet; }
                then { deny; }
            }
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
}
`;

let topo: Topology;
let macs: { client: string; fw: string };

t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
  const mac = async (host: 'client' | 'fw', dev: string) => (JSON.parse(await topo.sh(host, `ip -j link show dev ${dev}`)) as Array<{ address: string }>)[0]!.address;
  macs = { client: await mac('client', 'eth0'), fw: await mac('fw', 'trust0') };
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Watcher {
  child: ChildProcess;
  drops: DropEntry[];
  notShown: Array<{ notShown: number; overBudget: number; ringFull: number }>;
  exited: Promise<number | null>;
}

/** `xdpfw monitor packet-drop --json ARGS` in the firewall's namespace, as an operator runs it. */
function watch(args: string[]): Watcher {
  const child = spawn('nsenter', [`--net=/run/netns/${topo.ns.fw}`, process.execPath, resolve(packageRoot, 'bin', 'xdpfw'),
    'monitor', 'packet-drop', '--json', ...args, '--state-dir', topo.stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const w: Watcher = { child, drops: [], notShown: [], exited: new Promise((r) => child.on('exit', (code) => r(code))) };
  const lines = (stream: NodeJS.ReadableStream, take: (line: string) => void) => {
    let partial = '';
    stream.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      for (const l of parts) if (l) take(l);
    });
  };
  lines(child.stdout!, (l) => w.drops.push(JSON.parse(l) as DropEntry));
  lines(child.stderr!, (l) => w.notShown.push(JSON.parse(l) as Watcher['notShown'][number]));
  return w;
}

async function until(what: string, ok: () => boolean, step: () => Promise<unknown> = () => sleep(100), limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await step();
  }
}

async function send(spec: { src: string; dst: string; protocol: 'tcp' | 'udp'; sport: number; dport: number; tcpFlags?: number }, count = 1, rate = 0): Promise<void> {
  const data = frame({ ...spec, srcMac: macs.client, dstMac: macs.fw });
  await topo.traffic('client', ['raw-send', '--iface', 'eth0', '--frame', data.toString('hex'), '--count', String(count), '--rate', String(rate)]);
}

const LAND = { src: ADDR.server4, dst: ADDR.server4, protocol: 'tcp', sport: 4444, dport: 80, tcpFlags: 0x02 } as const;
const TELNET = { src: ADDR.client4, dst: ADDR.server4, protocol: 'tcp', sport: 40023, dport: 23, tcpFlags: 0x02 } as const;
const UDP_9999 = { src: ADDR.client4, dst: ADDR.server4, protocol: 'udp', sport: 40999, dport: 9999 } as const;

t.test('a policy deny, an XDP screen drop and a filter discard each appear with their reason', async (t) => {
  const all = watch([]);
  const telnetOnly = watch(['--destination-port', '23', '--protocol', 'tcp', '--count', '1']);
  t.teardown(() => { all.child.kill(); telnetOnly.child.kill(); });
  // The watchers attach asynchronously: land attacks until the first one shows.
  await until('the watcher to see a land attack', () => all.drops.some((d) => d.reason === 'screen'), () => send(LAND).then(() => sleep(200)));
  const land = all.drops.find((d) => d.reason === 'screen');
  t.match(land, {
    path: 'xdp', stage: 'screen', reason: 'screen', rule: 'Land attack!', interface: 'trust0', zone: 'trust', family: 'inet',
    protocol: 'tcp', protocolNumber: 6, source: ADDR.server4, destination: ADDR.server4, sourcePort: 4444, destinationPort: 80,
  }, 'the land attack: XDP screen, attack name, interface, zone, tuple');
  t.ok(Number.isFinite(Date.parse(land!.time)) && Math.abs(Date.parse(land!.time) - Date.now()) < 600_000, 'a wall-clock time');

  await until('the telnet watcher to take its one drop', () => telnetOnly.drops.length > 0, () => send(TELNET).then(() => sleep(200)));
  t.equal(await telnetOnly.exited, 0, '--count 1: the watcher ends after one drop');
  t.equal(telnetOnly.drops.length, 1);
  t.match(telnetOnly.drops[0], {
    path: 'slow-path', stage: 'policy', reason: 'policy_deny', rule: 'deny-telnet', interface: 'trust0', zone: 'trust',
    protocol: 'tcp', source: ADDR.client4, destination: ADDR.server4, sourcePort: 40023, destinationPort: 23,
  }, 'the denied packet, with its policy');
  t.ok(telnetOnly.drops.every((d) => d.destinationPort === 23), 'the filtered watcher saw nothing else');

  const before = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  await send(UDP_9999);
  await until('the filter discard', () => all.drops.some((d) => d.reason === 'filter_discard'));
  t.match(all.drops.find((d) => d.reason === 'filter_discard'), {
    path: 'slow-path', stage: 'filter', rule: 'in-trust term no-9999', protocol: 'udp', sourcePort: 40999, destinationPort: 9999,
    interface: 'trust0', zone: 'trust',
  }, 'the input filter discard, with filter and term');
  const after = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(after.drops.filter_discard, (before.drops.filter_discard ?? 0) + 1, 'the same drop as counted in show counters');
  t.ok(all.drops.some((d) => d.reason === 'policy_deny'), 'the unfiltered watcher saw the deny too');
});

t.test('a flood is sampled: the watcher is told how many it was not shown', async (t) => {
  const w = watch(['--rate', '1', '--reason', 'screen']);
  t.teardown(() => w.child.kill());
  await until('the watcher to attach', () => w.drops.length > 0, () => send(LAND).then(() => sleep(300)));
  // A new second of budget, then a burst far beyond it.
  await sleep(1500);
  const shownBefore = w.drops.length;
  const hiddenBefore = w.notShown.reduce((n, s) => n + s.notShown, 0);
  const burst = 200;
  await send({ ...LAND, sport: 5555 }, burst);
  const landsOf5555 = () => w.drops.filter((d) => d.sourcePort === 5555).length;
  await until('every drop of the burst shown or reported', () =>
    landsOf5555() + w.notShown.reduce((n, s) => n + s.notShown, 0) - hiddenBefore >= burst);
  await sleep(1500); // a later summary must not report more than happened
  const hidden = w.notShown.reduce((n, s) => n + s.notShown, 0) - hiddenBefore;
  t.ok(landsOf5555() >= 1, 'some of the burst was shown');
  t.ok(landsOf5555() <= 4, `at most the budget was shown (${landsOf5555()}: 1 per second and CPU)`);
  t.equal(landsOf5555() + hidden, burst, 'shown + not shown = every drop of the burst');
  t.equal(w.drops.length - shownBefore, landsOf5555(), 'nothing else was shown');
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.ok(c.losses.packetDropMonitor.overBudget >= hidden, `show counters: ${c.losses.packetDropMonitor.overBudget} not shown (over budget)`);
  t.ok(c.losses.packetDropMonitor.shown >= w.drops.length, `show counters: ${c.losses.packetDropMonitor.shown} shown`);
  const m = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  const over = /^xdpfw_packet_drop_monitor_total\{outcome="over_budget"\} (\d+)$/m.exec(m.body);
  t.ok(over && Number(over[1]) >= hidden, 'and in the metrics');
});

t.test('a bad filter is refused with its flag named, before anything is watched', async (t) => {
  const r = await topo.xdpfw(['monitor', 'packet-drop', '--source-prefix', '10.0.0.1/33']);
  t.equal(r.code, 1);
  t.match(r.stderr, /source-prefix: invalid prefix length in '10\.0\.0\.1\/33'/);
});
