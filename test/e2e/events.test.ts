// Security events end to end: real traffic through the real daemon, real
// UDP and TCP syslog collectors, reject answered on the wire.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { PoliciesReport } from '../../lib/daemon/policies-report.js';
import { ADDR, type RunningTraffic, Topology } from '../helpers/topology.js';

const CONFIG = `
system {
    host-name fw1;
    syslog {
        host 127.0.0.1 { port 5514; transport udp; format structured; }
        host 127.0.0.2 { port 5515; transport tcp; format brief; }
        host 127.0.0.3 { port 5516; transport tcp; format structured; }
        rate-limit 50;
    }
}
applications { application reject-me { protocol tcp; destination-port 5999; } }
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy refuse {
                match { source-address any; destination-address any; application reject-me; }
                then { reject; log { session-init; } }
            }
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; log { session-init; session-close; } }
            }
        }
        from-zone untrust to-zone trust {
            policy deny-in {
                match { source-address any; destination-address any; application any; }
                then { deny; log { session-init; } }
            }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { tcp-closing 1; udp 5; } }
}
`;

let topo: Topology;
let udp: RunningTraffic;
let tcp: RunningTraffic;

t.before(async () => {
  topo = await Topology.create();
  udp = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'udp', '--listen', '127.0.0.1', '--port', '5514'], 300_000);
  tcp = await topo.startTraffic('fw', ['syslog-listen', '--transport', 'tcp', '--listen', '127.0.0.2', '--port', '5515'], 300_000);
  await topo.startTraffic('fw', ['tcp-stall', '--listen', '127.0.0.3', '--port', '5516'], 300_000);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('client', ['udp-echo', '--port', '5002']);
});
t.teardown(() => topo?.destroy());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const messages = (l: RunningTraffic) => l.lines.map((x) => JSON.parse(x) as { msg?: string }).flatMap((x) => (x.msg ? [x.msg] : []));

async function waitFor(l: RunningTraffic, re: RegExp, ms = 10_000): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = messages(l).find((m) => re.test(m));
    if (hit || Date.now() > deadline) return hit;
    await sleep(100);
  }
}

function sd(msg: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(msg)?.[1];
}

t.test('a permitted TCP flow yields SESSION_CREATE and, after FIN, SESSION_CLOSE with its counts', async (t) => {
  const payload = 1 << 20;
  const r = await topo.traffic<{ ok: boolean; received: number; localPort: number }>('client', [
    'tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', String(payload),
  ]);
  t.ok(r.ok);
  const port = r.localPort;
  const create = await waitFor(udp, new RegExp(`RT_FLOW_SESSION_CREATE .*source-port="${port}"`));
  t.ok(create, 'RT_FLOW_SESSION_CREATE arrived over UDP');
  t.match(create, /^<14>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d fw1 RT_FLOW - RT_FLOW_SESSION_CREATE \[junos@2636\.1\.1\.1\.2\.\d+ /);
  t.match(create, /\]$/, 'nothing follows the closing bracket');
  t.equal(sd(create!, 'source-address'), ADDR.client4);
  t.equal(sd(create!, 'destination-address'), ADDR.server4);
  t.equal(sd(create!, 'destination-port'), '5001');
  t.equal(sd(create!, 'protocol-id'), '6');
  t.equal(sd(create!, 'policy-name'), 'allow-out');
  t.equal(sd(create!, 'source-zone-name'), 'trust');
  t.equal(sd(create!, 'destination-zone-name'), 'untrust');
  t.equal(sd(create!, 'packet-incoming-interface'), 'trust0');
  const ts = Date.parse(/^<14>1 (\S+)/.exec(create!)![1]!);
  t.ok(Math.abs(ts - Date.now()) < 60_000, 'the timestamp is the real time');

  const close = await waitFor(udp, new RegExp(`RT_FLOW_SESSION_CLOSE .*source-port="${port}"`));
  t.ok(close, 'RT_FLOW_SESSION_CLOSE arrived');
  t.equal(sd(close!, 'reason'), 'TCP FIN');
  const pc = Number(sd(close!, 'packets-from-client'));
  const bc = Number(sd(close!, 'bytes-from-client'));
  const ps = Number(sd(close!, 'packets-from-server'));
  const bs = Number(sd(close!, 'bytes-from-server'));
  t.ok(bc >= payload + 40 * pc && bc <= payload + 80 * pc, `client bytes ${bc} = payload + ${pc} IP/TCP headers`);
  t.ok(ps > 0 && bs >= 40 * ps && bs <= 80 * ps + 16, `server bytes ${bs}: ${ps} ACK-sized packets and the count reply`);
  t.equal(sd(close!, 'session-id-32'), sd(create!, 'session-id-32'), 'same session id');

  const brief = await waitFor(tcp, new RegExp(`RT_FLOW_SESSION_CLOSE: session closed TCP FIN: ${ADDR.client4.replace(/\./g, '\\.')}/${port}->`));
  t.ok(brief, 'the brief form arrived over TCP, octet-counted');
  t.match(brief, new RegExp(` ${pc}\\(${bc}\\) ${ps}\\(${bs}\\) `), 'with the same counts');
});

t.test('a denied flow yields RT_FLOW_SESSION_DENY with the policy, zones and tuple', async (t) => {
  const r = await topo.traffic<{ received: number }>('server', ['udp-ping', '--host', ADDR.client4, '--port', '5002', '--sport', '43000', '--count', '1', '--timeout', '500']);
  t.equal(r.received, 0, 'denied');
  const deny = await waitFor(udp, /RT_FLOW_SESSION_DENY .*source-port="43000"/);
  t.ok(deny);
  t.equal(sd(deny!, 'source-address'), ADDR.server4);
  t.equal(sd(deny!, 'destination-address'), ADDR.client4);
  t.equal(sd(deny!, 'destination-port'), '5002');
  t.equal(sd(deny!, 'protocol-id'), '17');
  t.equal(sd(deny!, 'policy-name'), 'deny-in');
  t.equal(sd(deny!, 'source-zone-name'), 'untrust');
  t.equal(sd(deny!, 'destination-zone-name'), 'trust');
  t.equal(sd(deny!, 'reason'), 'Denied by policy');
});

t.test('reject answers the client at once (RST), and is logged as a reject', async (t) => {
  const r = await topo.traffic<{ ok: boolean; error?: string }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5999', '--bytes', '1', '--timeout', '5000']);
  t.notOk(r.ok);
  t.equal(r.error, 'ECONNREFUSED', 'the client sees a refusal, not a timeout');
  const line = await waitFor(udp, /RT_FLOW_SESSION_DENY .*destination-port="5999"/);
  t.equal(sd(line!, 'reason'), 'Rejected by policy');
  t.equal(sd(line!, 'policy-name'), 'refuse');
  const ping6 = await topo.exec('client', 'ping', ['-c', '1', '-W', '2', ADDR.server6]);
  t.equal(ping6.code, 0, 'other traffic unaffected');
  const c = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.ok(c.rejects.sent >= 1, 'reply counted');
  const pol = await topo.xdpfwJson<PoliciesReport>(['show', 'policies']);
  t.ok(pol.policies.find((p) => p.name === 'refuse')!.hits >= 1, 'the reject policy counts its hit');
});

t.test('a deny storm above the rate limit: sent + rate-limited = generated, exactly', async (t) => {
  const start = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  const before = start.events['policy-deny']!;
  const storm = await topo.traffic<{ sent: number }>('server', ['udp-ping', '--host', ADDR.client4, '--port', '5002', '--sport', '43001', '--count', '400', '--interval', '1', '--timeout', '300']);
  t.equal(storm.sent, 400);
  await sleep(500);
  const end = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  const after = end.events['policy-deny']!;
  const d = (k: keyof typeof after) => after[k] - before[k];
  // The repeats of the denied flow are dropped by the deny cache in XDP, which writes their
  // events within its own budget and counts the rest as suppressed there.
  const suppressed = end.losses.xdpEvents.suppressed['policy-deny'] - start.losses.xdpEvents.suppressed['policy-deny'];
  t.equal(d('generated') + suppressed, 400, `one deny event per denied datagram (${suppressed} suppressed in XDP)`);
  t.ok(d('rateLimited') + suppressed > 0, `the limit held some back (${d('rateLimited')} + ${suppressed})`);
  t.equal(d('sent') + d('rateLimited') + d('queueFull') + d('sinkFailed'), d('generated'), 'every event accounted for');
  t.equal(d('queueFull') + d('sinkFailed'), 0, 'none lost any other way');
});

t.test('a TCP collector that stops reading costs events, not forwarding', async (t) => {
  const r = await topo.traffic<{ ok: boolean; received: number }>('client', ['tcp-send', '--host', ADDR.server4, '--port', '5001', '--bytes', String(20 << 20)]);
  t.ok(r.ok);
  t.equal(r.received, 20 << 20, 'the transfer completed while the collector hangs');
  const sinks = (await topo.xdpfwJson<CountersReport>(['show', 'counters'])).sinks;
  const stalled = sinks.find((s) => s.name.includes('127.0.0.3'));
  t.ok(stalled, 'the stalled sink is listed');
  t.ok(stalled!.connected, 'it is connected');
  const healthy = sinks.find((s) => s.name.includes('127.0.0.1'));
  t.ok(Object.values(healthy!.kinds).some((k) => k.written > 0), 'the other sinks keep writing');
});
