// End to end: UDP datagrams larger than the links' MTU, sent by the client's
// kernel as IP fragments, through the real daemon both ways (the server
// echoes them), v4 and v6; with `permit any`, then with a policy that
// permits one UDP port only, whose denied flows' fragments never reach the
// server.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

const PERMITTED = 5002;
const OTHER = 5004;
const COUNT = 5;

let topo: Topology;

t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(basicConfig())]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  await topo.startTraffic('server', ['udp-echo', '--port', String(PERMITTED)]);
  await topo.startTraffic('server', ['udp-echo', '--port', String(OTHER)]);
});

t.teardown(async () => {
  await topo?.destroy();
});

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);
const sessions = () => topo.xdpfwJson<SessionView[]>(['show', 'sessions']);

/** Echoes of `COUNT` datagrams of `bytes` bytes each from the client's `sport`. */
function udpPing(server: string, port: number, bytes: number, sport: number): Promise<{ sent: number; received: number }> {
  return topo.traffic('client', [
    'udp-ping', '--host', server, '--port', String(port), '--bytes', String(bytes), '--count', String(COUNT),
    '--sport', String(sport), '--interval', '50', '--timeout', '3000',
  ]);
}

/** The server kernel's reassembly counters (its own namespace's /proc/net). */
async function reassembly(family: 'inet' | 'inet6'): Promise<{ fragments: number; datagrams: number }> {
  if (family === 'inet') {
    const lines = (await topo.sh('server', 'cat /proc/net/snmp')).split('\n').filter((l) => l.startsWith('Ip: '));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    const get = (n: string) => Number(values[names.indexOf(n)]);
    return { fragments: get('ReasmReqds'), datagrams: get('ReasmOKs') };
  }
  const text = await topo.sh('server', 'cat /proc/net/snmp6');
  const get = (n: string) => Number(new RegExp(`^${n}\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { fragments: get('Ip6ReasmReqds'), datagrams: get('Ip6ReasmOKs') };
}

/** Fragments of one datagram of `bytes` UDP payload on a 1500-byte link. */
function fragmentsOf(family: 'inet' | 'inet6', bytes: number): number {
  const perFragment = family === 'inet' ? 1480 : 1448; // 1500 - IP header (- IPv6 fragment header), a multiple of 8
  return Math.ceil((8 + bytes) / perFragment);
}

function policyConfig(): string {
  return `
applications { application frag-udp { protocol udp; destination-port ${PERMITTED}; } }
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy udp-only {
                match { source-address any; destination-address any; application frag-udp; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { udp 60; } }
}
`;
}

for (const family of ['inet', 'inet6'] as const) {
  const server = family === 'inet' ? ADDR.server4 : ADDR.server6;

  t.test(`${family}: 3000- and 8000-byte datagrams pass both ways with permit any, counted on their session`, async (t) => {
    for (const [bytes, sport] of [[3000, 41000], [8000, 41001]] as const) {
      const before = await reassembly(family);
      const r = await udpPing(server, PERMITTED, bytes, sport + (family === 'inet' ? 0 : 10));
      t.equal(r.received, COUNT, `${bytes} bytes: every datagram came back whole`);
      const after = await reassembly(family);
      const n = fragmentsOf(family, bytes);
      t.equal(after.datagrams - before.datagrams, COUNT, `${bytes} bytes: the server reassembled ${COUNT} datagrams`);
      t.equal(after.fragments - before.fragments, COUNT * n, `${bytes} bytes: from ${n} fragments each`);
      const s = (await sessions()).find((x) => x.protocol === 'udp' && x.destinationAddress === server && x.sourcePort === sport + (family === 'inet' ? 0 : 10));
      t.ok(s, `${bytes} bytes: the flow is one session`);
      t.equal(s?.packetsFromClient, COUNT * n, `${bytes} bytes: every fragment from the client counted on it`);
      t.equal(s?.packetsFromServer, COUNT * n, `${bytes} bytes: every fragment of the echoes counted on it`);
    }
  });
}

t.test('with a policy permitting one UDP port: its fragments pass, other ports\' never reach the server', async (t) => {
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(policyConfig())]);
  t.equal(r.code, 0, `reloaded (${r.stderr})`);
  for (const family of ['inet', 'inet6'] as const) {
    const server = family === 'inet' ? ADDR.server4 : ADDR.server6;
    const sportBase = family === 'inet' ? 42000 : 42100;
    for (const bytes of [3000, 8000]) {
      const ok = await udpPing(server, PERMITTED, bytes, sportBase + bytes / 1000);
      t.equal(ok.received, COUNT, `${family} ${bytes} bytes to UDP ${PERMITTED}: every datagram came back`);

      const before = await counters();
      const seen = await reassembly(family);
      const denied = await udpPing(server, OTHER, bytes, sportBase + 50 + bytes / 1000);
      t.equal(denied.received, 0, `${family} ${bytes} bytes to UDP ${OTHER}: nothing came back`);
      const after = await counters();
      const reached = await reassembly(family);
      t.equal(reached.fragments - seen.fragments, 0, `${family} ${bytes} bytes to UDP ${OTHER}: not one fragment reached the server`);
      const delta = (reason: string) => (after.drops[reason] ?? 0) - (before.drops[reason] ?? 0);
      // The first by the slow path, its repeats (the same flow) by the deny cache in XDP.
      t.equal(delta('policy_deny') + delta('deny_cache_hit'), COUNT, `${family}: each first fragment denied by policy`);
      t.ok(delta('policy_deny') >= 1, `${family}: judged by the slow path first`);
      t.equal(delta('fragment_no_first'), COUNT * (fragmentsOf(family, bytes) - 1), `${family}: every later fragment dropped as following no judged first one`);
    }
  }
  const text = await topo.xdpfw(['show', 'counters']);
  t.match(text.stdout, /fragment_no_first\s+\d+/, '`show counters` lists the drop reason');
  const scraped = await topo.traffic<{ status: number; body: string }>('fw', ['http-get', '--host', 'http://127.0.0.1:9420/metrics']);
  const drops = parsePrometheusTextFormat(scraped.body).find((f) => f.name === 'xdpfw_drops_total');
  const sample = drops?.metrics.find((m) => m.labels?.reason === 'drop_fragment_no_first');
  t.ok(sample && Number(sample.value) > 0, `metrics: xdpfw_drops_total{reason="drop_fragment_no_first"} ${sample?.value}`);
});
