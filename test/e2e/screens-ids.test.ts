// The packet screens Junos names under `ids-option` (bad-option,
// unknown-protocol, icmp large, IPv6 extension headers, tunnels) end to end:
// real pings and crafted frames from the client namespace through the real
// daemon, dropped in XDP, logged as RT_IDS lines with their Junos attack
// names to a real syslog collector, counted per zone and screen; the same
// kinds of traffic just inside the rules keep flowing. One topology.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { ScreenStatsReport } from '../../lib/screens/stats.js';
import { type FrameSpec, frame } from '../helpers/packets.js';
import { ADDR, type RunningTraffic, Topology } from '../helpers/topology.js';

const CONFIG = `
system {
    host-name fw1;
    syslog { host 127.0.0.1 { port 5514; transport udp; format structured; } }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } screen packets; }
        security-zone untrust { interfaces { untrust0; } }
    }
    screen {
        ids-option packets {
            icmp { large; }
            ip {
                bad-option;
                unknown-protocol;
                ipv6-extension-header { routing-header; }
                tunnel { gre { gre-4in4; } }
            }
        }
    }
    policies {
        from-zone trust to-zone untrust {
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
let syslog: RunningTraffic;
let macs: { client: string; fw: string };

t.before(async () => {
  topo = await Topology.create();
  syslog = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'udp', '--listen', '127.0.0.1', '--port', '5514'], 300_000);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
  const mac = async (host: 'client' | 'fw', dev: string) => (JSON.parse(await topo.sh(host, `ip -j link show dev ${dev}`)) as Array<{ address: string }>)[0]!.address;
  macs = { client: await mac('client', 'eth0'), fw: await mac('fw', 'trust0') };
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const trustScreens = async () => (await topo.xdpfwJson<ScreenStatsReport>(['show', 'screen', 'statistics', '--zone', 'trust'])).zones[0]!.screens;
const messages = () => syslog.lines.map((x) => JSON.parse(x) as { msg?: string }).flatMap((x) => (x.msg ? [x.msg] : []));

async function syslogLines(attackName: string, ms = 10_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hits = messages().filter((m) => m.includes(`attack-name="${attackName}"`));
    if (hits.length > 0 || Date.now() > deadline) return hits;
    await sleep(100);
  }
}

/** Sends one crafted frame from the client to the firewall. */
async function rawSend(spec: FrameSpec): Promise<void> {
  const data = frame({ ...spec, srcMac: macs.client, dstMac: macs.fw });
  const r = await topo.traffic<{ sent: number }>('client', ['raw-send', '--iface', 'eth0', '--frame', data.toString('hex'), '--count', '1', '--rate', '0']);
  if (r.sent !== 1) throw new Error('raw-send sent nothing');
}

/** Whether `ping` from the client with `size` bytes of data gets its answer. */
async function ping(host: string, size: number): Promise<boolean> {
  const r = await topo.exec('client', 'ping', ['-c', '1', '-W', '2', '-s', String(size), host]);
  return r.code === 0;
}

t.test('icmp large: a ping of 1100 bytes is dropped and logged, 900 bytes go through', async (t) => {
  t.ok(await ping(ADDR.server4, 900), 'IPv4: 928 bytes answered');
  t.ok(await ping(ADDR.server6, 900), 'IPv6: 948 bytes answered');
  const before = await counters();
  t.notOk(await ping(ADDR.server4, 1100), 'IPv4: 1128 bytes never answered');
  t.notOk(await ping(ADDR.server6, 1100), 'IPv6: 1148 bytes never answered');
  const after = await counters();
  t.equal(after.xdp.dropScreen!.packets - (before.xdp.dropScreen?.packets ?? 0), 2, 'two screen drops in XDP');
  t.equal(after.slowPathPackets, before.slowPathPackets, 'the slow path never saw them');
  t.match((await trustScreens())['icmp-large'], { drops: 2, alarms: 0 });
  const lines = await syslogLines('Large ICMP packet!');
  t.equal(lines.length, 2, 'two RT_IDS lines');
  t.ok(lines.some((l) => l.includes(` RT_IDS - RT_SCREEN_ICMP [junos@2636.1.1.1.2.129 attack-name="Large ICMP packet!" source-address="${ADDR.client4}" destination-address="${ADDR.server4}"`)), 'IPv4, tag and attack name');
  t.ok(lines.some((l) => l.includes(`source-address="${ADDR.client6}" destination-address="${ADDR.server6}"`)), 'IPv6');
  t.ok(lines.every((l) => /source-zone-name="trust" interface-name="trust0" action="drop"\]$/.test(l)), 'zone, interface and action');
});

t.test('crafted packets: a malformed option, an unknown protocol, GRE 4in4, an IPv6 routing header', async (t) => {
  const inner = frame({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 'udp' }).subarray(14);
  const cases: Array<{ spec: FrameSpec; screen: string; attackName: string; protocol: number }> = [
    { spec: { src: ADDR.client4, dst: ADDR.server4, protocol: 'udp', dport: 7, ipOptions: Buffer.from([7, 1, 0, 0]) }, screen: 'ip-bad-option', attackName: 'Bad IP option!', protocol: 17 },
    { spec: { src: ADDR.client4, dst: ADDR.server4, protocol: 200 }, screen: 'ip-unknown-protocol', attackName: 'Unknown protocol!', protocol: 200 },
    { spec: { src: ADDR.client4, dst: ADDR.server4, protocol: 47, payload: Buffer.concat([Buffer.from([0, 0, 8, 0]), inner]) }, screen: 'tunnel-gre-4in4', attackName: 'GRE 4in4 tunnel!', protocol: 47 },
    { spec: { src: ADDR.client6, dst: ADDR.server6, protocol: 'udp', dport: 7, ext: [43] }, screen: 'ipv6-extension-header', attackName: 'IPv6 extension header!', protocol: 17 },
  ];
  for (const c of cases) {
    const before = await counters();
    await rawSend(c.spec);
    const lines = await syslogLines(c.attackName);
    t.equal(lines.length, 1, `${c.screen}: one RT_IDS line`);
    t.match(lines[0], new RegExp(`^<11>1 \\S+ fw1 RT_IDS - RT_SCREEN_IP \\[junos@2636\\.1\\.1\\.1\\.2\\.129 attack-name="${c.attackName.replace(/[!.]/g, '\\$&')}" ` +
      `source-address="${c.spec.src}" destination-address="${c.spec.dst}" .*protocol-id="${c.protocol}" source-zone-name="trust" interface-name="trust0" action="drop"\\]$`),
    `${c.screen}: the Junos attack name, the tuple, zone, interface and action`);
    const after = await counters();
    t.equal(after.xdp.dropScreen!.packets - (before.xdp.dropScreen?.packets ?? 0), 1, `${c.screen}: dropped in XDP`);
    t.match((await trustScreens())[c.screen as 'ip-bad-option'], { drops: 1 }, `${c.screen}: counted for the zone and the screen`);
  }
  t.ok(await ping(ADDR.server4, 56) && await ping(ADDR.server6, 56), 'ordinary pings still answered');
});
