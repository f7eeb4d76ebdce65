// TCP tracked in XDP, end to end: real connections through the real daemon.
// Forged RSTs from the server's side leave a connection working; a short
// connection costs the slow path one packet; session-close events carry
// the reason and exact counters XDP counted.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, type RunningTraffic, Topology } from '../helpers/topology.js';

const CONFIG = `
system {
    syslog { host 127.0.0.1 { port 5514; transport udp; format structured; } }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; log { session-close; } }
            }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { tcp-closing 1; } }
}
`;

// RST segments from the server's address and port to the client's, with random
// sequence numbers and a valid checksum, through a raw socket of the server namespace.
const FORGE_RSTS = `
import random, socket, struct, sys
src, dst, sport, dport, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s_addr, d_addr = socket.inet_aton(src), socket.inet_aton(dst)
def csum(b):
    n = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while n > 0xffff:
        n = (n & 0xffff) + (n >> 16)
    return 0xffff - n
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(count):
    flags = 0x04 if i % 2 else 0x14
    tcp = struct.pack('!HHIIBBHHH', sport, dport, random.getrandbits(32), random.getrandbits(32), 5 << 4, flags, 512, 0, 0)
    check = csum(s_addr + d_addr + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack('!H', check) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), i, 0, 64, 6, 0, s_addr, d_addr)
    raw.sendto(ip + tcp, (dst, 0))
print(count)
`;

let topo: Topology;
let syslog: RunningTraffic;

t.before(async () => {
  topo = await Topology.create();
  syslog = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'udp', '--listen', '127.0.0.1', '--port', '5514'], 300_000);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001'], 300_000);
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const messages = () => syslog.lines.map((x) => JSON.parse(x) as { msg?: string }).flatMap((x) => (x.msg ? [x.msg] : []));

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() > deadline) return v;
    await sleep(100);
  }
}

function sd(msg: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(msg)?.[1];
}

t.test('50 forged RSTs with random sequence numbers from the server side leave the connection working', async (t) => {
  const trickle = await topo.startTraffic('client', [
    'tcp-trickle', '--host', ADDR.server4, '--port', '5001', '--count', '100000', '--interval', '20', '--timeout', '30000',
  ], 300_000);
  const started = await waitFor(() => trickle.lines.map((l) => JSON.parse(l) as { localPort?: number }).find((l) => l.localPort));
  t.ok(started, 'connected');
  const port = started!.localPort!;
  const before = await counters();
  const forged = await topo.exec('server', 'python3', ['-c', FORGE_RSTS, ADDR.server4, ADDR.client4, '5001', String(port), '50']);
  t.equal(forged.stdout.trim(), '50', 'sent 50 forged RSTs');
  const dropped = (c: CountersReport) => (c.drops.tcp_out_of_window ?? 0) + (c.drops.tcp_rst_inexact ?? 0);
  const after = await waitFor(async () => {
    const c = await counters();
    return dropped(c) - dropped(before) >= 50 ? c : undefined;
  });
  t.ok(after, 'XDP dropped them');
  t.equal(dropped(after!) - dropped(before), 50, 'all 50, counted as out of window or inexact');
  t.match((await topo.xdpfw(['show', 'counters'])).stdout, /tcp_out_of_window\s+[1-9]/, 'shown by show counters');
  const m = await topo.traffic<{ body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  t.match(m.body, /xdpfw_drops_total\{stage="xdp",reason="drop_tcp_out_of_window"\} [1-9]/, 'and in the metrics');
  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  const s = sessions.find((x) => x.sourcePort === port);
  t.equal(s?.state, 'established', 'the session is still established');
  trickle.child.kill('SIGUSR1');
  const end = JSON.parse(await trickle.exited.then(() => trickle.lines.at(-1)!)) as { ok: boolean; received: number };
  const stopped = trickle.lines.map((l) => JSON.parse(l) as { sent?: number }).find((l) => l.sent !== undefined);
  t.ok(end.ok, 'the connection ended normally');
  t.equal(end.received, stopped?.sent, 'every byte the client sent reached the server');
});

t.test('a bulk transfer is never judged out of window (both directions tracked on their CPUs)', async (t) => {
  const before = await counters();
  const bytes = 50 << 20;
  const r = await topo.traffic<{ ok: boolean; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', String(bytes)]);
  t.ok(r.ok);
  t.equal(r.received, bytes, 'every byte arrived');
  const after = await counters();
  for (const reason of ['tcp_out_of_window', 'tcp_rst_inexact', 'tcp_invalid', 'tcp_syn_check']) {
    t.equal((after.drops[reason] ?? 0) - (before.drops[reason] ?? 0), 0, `no ${reason} drop`);
  }
});

t.test('short TCP connections cost the slow path one packet each', async (t) => {
  const before = await counters();
  const N = 50;
  for (let i = 0; i < N; i++) {
    const r = await topo.traffic<{ ok: boolean; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', '100']);
    if (!r.ok || r.received !== 100) t.fail(`connection ${i}: ${JSON.stringify(r)}`);
  }
  const after = await counters();
  t.equal(after.slowPathPackets - before.slowPathPackets, N, `${N} connections, ${N} packets through the slow path (their SYNs)`);
  t.equal(after.sessions.created - before.sessions.created, N, 'one session each');
});

t.test('a connection refused by the server closes its session by RST: one event, exact counters', async (t) => {
  const r = await topo.traffic<{ ok: boolean; error?: string }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5999', '--bytes', '1']);
  t.equal(r.error, 'ECONNREFUSED', 'the server answered the SYN with a RST');
  const close = await waitFor(() => messages().find((m) => /RT_FLOW_SESSION_CLOSE .*destination-port="5999"/.test(m)));
  t.ok(close, 'RT_FLOW_SESSION_CLOSE arrived');
  t.equal(sd(close!, 'reason'), 'TCP RST');
  t.equal(sd(close!, 'packets-from-client'), '1', 'the SYN');
  t.equal(sd(close!, 'bytes-from-client'), '60', 'a 60-byte SYN (20 bytes of options)');
  t.equal(sd(close!, 'packets-from-server'), '1', 'the RST');
  t.equal(sd(close!, 'bytes-from-server'), '40');
  // The table removes it after the closing wait, without a second event.
  await waitFor(async () => {
    const s = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
    return s.some((x) => x.destinationPort === 5999) ? undefined : true;
  });
  const closes = messages().filter((m) => /RT_FLOW_SESSION_CLOSE .*destination-port="5999"/.test(m));
  t.equal(closes.length, 1, 'exactly one close event');
});

t.test('a connection closed by FIN both ways: one tcp-fin event with the counts XDP saw', async (t) => {
  const r = await topo.traffic<{ ok: boolean; received: number; localPort: number }>('client', [
    'tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', '1000',
  ]);
  t.ok(r.ok);
  const re = new RegExp(`RT_FLOW_SESSION_CLOSE .*source-port="${r.localPort}"`);
  const close = await waitFor(() => messages().find((m) => re.test(m)));
  t.ok(close, 'RT_FLOW_SESSION_CLOSE arrived');
  t.equal(sd(close!, 'reason'), 'TCP FIN');
  const pc = Number(sd(close!, 'packets-from-client'));
  const bc = Number(sd(close!, 'bytes-from-client'));
  const ps = Number(sd(close!, 'packets-from-server'));
  // Client: SYN (60), then ACK, data, FIN and the last ACK, each with the 12-byte timestamp option (52).
  t.ok(pc >= 4, `client packets ${pc}`);
  t.equal(bc, 60 + (pc - 1) * 52 + 1000, 'client bytes: its headers and the 1000 bytes, to the byte');
  t.ok(ps >= 3, `server packets ${ps}: SYN-ACK, the count reply, FIN, ACKs`);
  await waitFor(async () => {
    const s = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
    return s.some((x) => x.sourcePort === r.localPort) ? undefined : true;
  });
  t.equal(messages().filter((m) => re.test(m)).length, 1, 'exactly one close event after the session is removed');
});
