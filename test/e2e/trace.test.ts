// `xdpfw trace` end to end: for a permitted flow, a denied one, a rejected
// one, a land attack and packets to the box itself, the trace (the real XDP
// object in a private instance, the real slow-path engines) gives the outcome
// the real packet then gets through the running daemon, and tracing changes
// none of the running firewall's counters or sessions.
import t from 'tap';
import { request, requestStream } from '../../lib/control/client.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import type { TraceReport } from '../../lib/trace/trace.js';
import { frame } from '../helpers/packets.js';
import { ADDR, Topology } from '../helpers/topology.js';

const CONFIG = `
applications { application tcp-24 { protocol tcp; destination-port 24; } }
firewall {
    family inet {
        filter lo0-in {
            term no-ssh { from { protocol tcp; destination-port 22; } then { discard; } }
            term rest { then accept; }
        }
    }
}
interfaces { lo0 { unit 0 { family inet { filter { input lo0-in; } } } } }
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; ssh; } } screen guard; }
        security-zone untrust { interfaces { untrust0; } }
    }
    screen { ids-option guard { tcp { land; } } }
    policies {
        from-zone trust to-zone untrust {
            policy deny-telnet { match { source-address any; destination-address any; application junos-telnet; } then { deny; } }
            policy reject-24 { match { source-address any; destination-address any; application tcp-24; } then { reject; } }
            policy allow-out { match { source-address any; destination-address any; application any; } then { permit; } }
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
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('fw', ['udp-echo', '--port', '5003']);
  const mac = async (host: 'client' | 'fw', dev: string) => (JSON.parse(await topo.sh(host, `ip -j link show dev ${dev}`)) as Array<{ address: string }>)[0]!.address;
  macs = { client: await mac('client', 'eth0'), fw: await mac('fw', 'trust0') };
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// What the operator's `show counters --json` / `show sessions --json` print, asked of the
// control socket directly: a CLI process per poll is slow on a loaded machine.
const counters = () => request<CountersReport>(statePaths(topo.stateDir).socket, { command: 'show-counters' });

async function traceOf(args: string[]): Promise<TraceReport> {
  return topo.xdpfwJson<TraceReport>(['trace', '--interface', 'trust0', ...args]);
}

async function rawSend(spec: { src: string; dst: string; sport: number; dport: number; tcpFlags: number }): Promise<void> {
  const data = frame({ ...spec, protocol: 'tcp', srcMac: macs.client, dstMac: macs.fw });
  await topo.traffic('client', ['raw-send', '--iface', 'eth0', '--frame', data.toString('hex'), '--count', '1', '--rate', '0']);
}

/** IPv6 neighbour discovery and MLD the namespaces send by themselves, not what a trace could move. */
const BACKGROUND = new Set(['passNeighbor', 'dropNeighbor', 'passNonIp']);

/** What tracing must not change: every XDP counter, every drop, the sessions (but their clocks). */
async function snapshot(): Promise<unknown> {
  const c = await counters();
  const sessions: SessionView[] = [];
  await requestStream<unknown, SessionView[]>(statePaths(topo.stateDir).socket, { command: 'show-sessions' }, (chunk) => void sessions.push(...chunk));
  const xdp = Object.fromEntries(Object.entries(c.xdp).filter(([n]) => !BACKGROUND.has(n)));
  return { xdp, drops: c.drops, slow: c.slowPathPackets, created: c.sessions.created, sessions: sessions.map((s) => ({ ...s, idleSeconds: 0, ageSeconds: 0 })) };
}

const stageNames = (r: TraceReport) => r.stages.map((s) => s.stage);

t.test('permit: the trace forwards it, so does the firewall; tracing counts nothing', async (t) => {
  const before = await snapshot();
  const r = await traceOf(['--source-ip', ADDR.client4, '--destination-ip', ADDR.server4, '--protocol', 'udp', '--source-port', '40000', '--destination-port', '5002']);
  t.same(stageNames(r), ['parse', 'screens', 'session', 'input-filter', 'route', 'policy', 'output-filter', 'translation'], 'every stage, in order');
  t.match(r.stages.find((s) => s.stage === 'policy'), { verdict: 'permit', detail: /^allow-out \(trust -> untrust\)/ });
  t.match(r.stages.find((s) => s.stage === 'screens'), { path: 'xdp', verdict: 'pass', detail: 'ids-option guard' });
  t.match(r.final, { action: 'forward', egress: 'untrust0' });
  await sleep(300);
  t.same(await snapshot(), before, 'counters, drops and sessions unchanged by the trace');

  const ping = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.server4, '--port', '5002', '--count', '3', '--interval', '100', '--timeout', '2000']);
  t.equal(ping.received, 3, 'the real flow is forwarded');
});

t.test('an established flow: the trace hits its session in XDP', async (t) => {
  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  const s = sessions.find((x) => x.destinationPort === 5002);
  t.ok(s, 'the flow has a session');
  const before = await snapshot();
  const r = await traceOf(['--source-ip', ADDR.client4, '--destination-ip', ADDR.server4, '--protocol', 'udp', '--source-port', String(s!.sourcePort), '--destination-port', '5002']);
  t.same(stageNames(r), ['parse', 'screens', 'session']);
  t.match(r.stages[2], { path: 'xdp', verdict: 'hit', detail: /policy allow-out, trust -> untrust/ });
  t.match(r.final, { action: 'forward', reason: 'fast_forward', egress: 'untrust0' });
  t.same(await snapshot(), before, "the session's counters and last-seen time are the running ones still");
});

t.test('deny, reject and a land attack: the trace says what the real packet gets', async (t) => {
  const cases = [
    { name: 'deny', dport: 23, src: ADDR.client4, reason: 'policy_deny', action: 'drop', stage: 'policy', rule: /^deny-telnet/ },
    { name: 'reject', dport: 24, src: ADDR.client4, reason: 'policy_reject', action: 'reject', stage: 'policy', rule: /^reject-24/ },
    { name: 'land', dport: 80, src: ADDR.server4, reason: 'screen', action: 'drop', stage: 'screens', rule: /^Land attack!/ },
  ] as const;
  for (const c of cases) {
    const before = await snapshot();
    const r = await traceOf(['--source-ip', c.src, '--destination-ip', ADDR.server4, '--protocol', 'tcp', '--source-port', '41000', '--destination-port', String(c.dport), '--tcp-flags', 'syn']);
    t.match(r.final, { action: c.action, reason: c.reason }, `${c.name}: the trace's verdict`);
    t.match(r.stages.at(-1), { stage: c.stage, detail: c.rule }, `${c.name}: decided at ${c.stage}`);
    t.same(await snapshot(), before, `${c.name}: tracing counted nothing`);
    const was = (await counters()).drops[c.reason] ?? 0;
    await rawSend({ src: c.src, dst: ADDR.server4, sport: 41000, dport: c.dport, tcpFlags: 0x02 });
    let now = was;
    for (let i = 0; i < 100 && now === was; i++) {
      await sleep(100);
      now = (await counters()).drops[c.reason] ?? 0;
    }
    t.equal(now, was + 1, `${c.name}: the real packet is dropped for the same reason (${c.reason})`);
  }
});

t.test('to the box: ping admitted by host-inbound-traffic, UDP not', async (t) => {
  const ping = await traceOf(['--source-ip', ADDR.client4, '--destination-ip', ADDR.fwTrust4, '--protocol', 'icmp', '--icmp-type', '8', '--source-port', '777']);
  t.match(ping.stages.find((s) => s.stage === 'host-inbound'), { verdict: 'allow' });
  t.match(ping.final, { action: 'local' });
  const real = await topo.exec('client', 'ping', ['-c', '1', '-W', '5', ADDR.fwTrust4]);
  t.equal(real.code, 0, 'the real ping is answered');

  const udp = await traceOf(['--source-ip', ADDR.client4, '--destination-ip', ADDR.fwTrust4, '--protocol', 'udp', '--source-port', '40001', '--destination-port', '5003']);
  t.match(udp.final, { action: 'drop', reason: 'host_inbound_denied' });
  const was = (await counters()).drops.host_inbound_denied ?? 0;
  const r = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', ADDR.fwTrust4, '--port', '5003', '--count', '1', '--timeout', '1000']);
  t.equal(r.received, 0, 'the real datagram gets no answer');
  t.equal((await counters()).drops.host_inbound_denied, was + 1, 'dropped as host_inbound_denied');
});

t.test('to the box: ssh admitted by host-inbound-traffic, discarded by the lo0 filter', async (t) => {
  const before = await snapshot();
  const r = await traceOf(['--source-ip', ADDR.client4, '--destination-ip', ADDR.fwTrust4, '--protocol', 'tcp', '--source-port', '42000', '--destination-port', '22']);
  t.same(stageNames(r), ['parse', 'screens', 'session', 'input-filter', 'route', 'host-inbound', 'lo0-filter'], 'every stage, in order');
  t.match(r.stages.find((s) => s.stage === 'host-inbound'), { verdict: 'allow' });
  t.match(r.stages.find((s) => s.stage === 'lo0-filter'), { verdict: 'discard', detail: 'lo0-in term no-ssh' });
  t.match(r.final, { action: 'drop', reason: 'filter_discard' });
  t.same(await snapshot(), before, 'tracing counted nothing');
  const was = (await counters()).drops.filter_discard ?? 0;
  await rawSend({ src: ADDR.client4, dst: ADDR.fwTrust4, sport: 42000, dport: 22, tcpFlags: 0x02 });
  let now = was;
  for (let i = 0; i < 100 && now === was; i++) {
    await sleep(100);
    now = (await counters()).drops.filter_discard ?? 0;
  }
  t.equal(now, was + 1, 'the real SYN is discarded by the lo0 filter too');
});

t.test('a bad description is refused clearly', async (t) => {
  const r = await topo.xdpfw(['trace', '--interface', 'trust0', '--source-ip', 'nope', '--destination-ip', ADDR.server4, '--protocol', 'tcp']);
  t.equal(r.code, 1);
  t.match(r.stderr, /--source-ip: 'nope' is not an IPv4 or IPv6 address/);
});

t.test('after a reload moves trust0 into a zone without screens, the trace judges it there', async (t) => {
  const land = ['--source-ip', ADDR.server4, '--destination-ip', ADDR.server4, '--protocol', 'tcp', '--source-port', '41001', '--destination-port', '80', '--tcp-flags', 'syn'];
  t.match((await traceOf(land)).final, { action: 'drop', reason: 'screen' }, 'in trust (screen guard): a land attack is dropped');
  const moved = CONFIG.replace('security-zone trust { interfaces { trust0; }', 'security-zone trust {')
    .replace('security-zone untrust { interfaces { untrust0; } }', 'security-zone untrust { interfaces { untrust0; } }\n        security-zone guest { interfaces { trust0; } }');
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(moved)]);
  t.equal(r.code, 0, r.stderr);
  const after = await traceOf(land);
  t.not(after.final.reason, 'screen', 'in guest (no screen): the trace does not drop it as a screen');
  t.match(after.stages.find((s) => s.stage === 'screens'), { verdict: 'none', detail: 'zone guest has no screen' }, 'judged in guest');
});
