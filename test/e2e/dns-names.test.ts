// dns-name addresses end to end: the daemon asks the config's `system name-server` (a tiny DNS
// server of the test on the firewall's loopback) and a policy permits to what the name
// resolves to. When the answer changes, new flows follow it once its TTL ran out, without a
// reload, while an established session stays; when the server dies, the last good addresses
// stay; a name that never resolved matches nothing and shows why.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import type { DnsReport, DnsNameView } from '../../lib/dns-names/addresses.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { SessionView } from '../../lib/session/table.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { packageRoot } from '../../lib/util/paths.js';
import { ADDR, Topology } from '../helpers/topology.js';

interface SendResult { ok: boolean; error?: string; received?: number }

const NAME = 'web.xdpfw.test';
const MISSING = 'missing.xdpfw.test';
/** A second address of the server, which the name moves to. */
const SERVER_B = '10.2.0.3';
const DNS_SERVER = resolve(packageRoot, 'dist', 'test', 'helpers', 'dns-server.js');

const CONFIG = `
system { name-server { 127.0.0.1; } }
security {
    address-book {
        global {
            address web { dns-name ${NAME} { ipv4-only; } }
            address missing { dns-name ${MISSING}; }
            address-set servers { address web; address missing; }
        }
    }
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy to-web {
                match { source-address any; destination-address servers; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { tcp-closing 1; udp 120; } }
}`;

let topo: Topology;
let answersFile: string;
let dnsServer: ChildProcess | null = null;

function setAnswer(a: string[]): void {
  writeFileSync(answersFile, JSON.stringify({ ttl: 1, names: { [NAME]: { A: a } } }));
}

async function startDnsServer(): Promise<void> {
  const child = spawn('nsenter', [`--net=/run/netns/${topo.ns.fw}`, process.execPath, DNS_SERVER, '--answers', answersFile],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  dnsServer = child;
  await new Promise<void>((ready, fail) => {
    child.stdout!.once('data', () => ready());
    child.once('exit', (code) => fail(new Error(`dns server exited (${code})`)));
  });
}

async function addressBook(): Promise<Map<string, DnsNameView>> {
  const r = await topo.xdpfwJson<DnsReport>(['show', 'address-book']);
  return new Map(r.names.map((n) => [n.name, n]));
}

/** Polls `show address-book` until `done` holds for the name (generous: a loaded machine). */
async function waitFor(what: string, done: (n: DnsNameView) => boolean, name = NAME): Promise<DnsNameView> {
  const until = Date.now() + 60_000;
  for (;;) {
    const n = (await addressBook()).get(name);
    if (n && done(n)) return n;
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(n)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const tcp = (host: string): Promise<SendResult> =>
  topo.traffic<SendResult>('client', ['tcp-send', '--host', host, '--port', '5001', '--bytes', '1000', '--timeout', '1500']);

t.before(async () => {
  topo = await Topology.create();
  answersFile = join(topo.stateDir, 'dns-answers.json');
  setAnswer([ADDR.server4]);
  await startDnsServer();
  await topo.sh('server', `ip addr add ${SERVER_B}/24 dev eth0`);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('server', ['udp-echo', '--port', '5002']);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG), '--dns-min-ttl', '1']);
  if (r.code !== 0) throw new Error(r.stderr);
});
t.teardown(async () => {
  dnsServer?.kill('SIGKILL');
  await topo?.destroy();
});

t.test('resolved at load: the policy permits to the answer only; an unresolvable name matches nothing and shows why', async (t) => {
  const book = await addressBook();
  t.match(book.get(NAME), { families: ['inet'], usedBy: ['global web'], addresses: [ADDR.server4], resolved: true, ttlSeconds: 1 });
  t.match(book.get(MISSING), { families: ['inet', 'inet6'], addresses: [], resolved: false, lastError: /ENOTFOUND/ });
  t.ok((book.get(MISSING)?.failures ?? 0) >= 1, 'its failed lookups are counted');
  t.match(await tcp(ADDR.server4), { ok: true, received: 1000 }, 'to the resolved address: permitted');
  t.match(await tcp(SERVER_B), { ok: false, error: 'ETIMEDOUT' }, 'to another address of the server: denied');
  const text = await topo.xdpfw(['show', 'address-book']);
  t.match(text.stdout, `dns-name ${NAME} (ipv4-only): used by global web`, 'the text form names it');
  t.match(text.stdout, 'never resolved (matches nothing)', 'and the name that never resolved');
});

t.test('a new answer applies to new flows after its TTL, without a reload; the established session stays', async (t) => {
  const sport = ['--sport', '40123'];
  const udp = (host: string) => topo.traffic<{ received: number }>('client', [
    'udp-ping', '--host', host, '--port', '5002', '--count', '2', '--timeout', '1000', ...sport,
  ]);
  t.equal((await udp(ADDR.server4)).received, 2, 'a UDP session to the first answer is up');
  setAnswer([SERVER_B]);
  const moved = await waitFor('the new answer', (n) => n.addresses.join() === SERVER_B);
  t.ok(moved.changes >= 1, 'counted as a change');
  t.match(await tcp(SERVER_B), { ok: true, received: 1000 }, 'new flows to the new address: permitted');
  t.match(await tcp(ADDR.server4), { ok: false, error: 'ETIMEDOUT' }, 'new flows to the old address: denied');
  t.equal((await udp(ADDR.server4)).received, 2, 'the session established before the change still carries traffic');
  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  t.ok(sessions.some((s) => s.destinationAddress === ADDR.server4 && s.sourcePort === 40123), 'and is still listed');
  const log = readFileSync(statePaths(topo.stateDir).logFile, 'utf8');
  t.match(log, `dns-name ${NAME}: ${ADDR.server4} -> ${SERVER_B}`, 'the change is logged');
  const status = await topo.xdpfw(['status']);
  t.equal(status.code, 0, 'the daemon runs on');
});

t.test('the DNS server gone: lookups fail, are logged and counted, and the last good addresses stay', async (t) => {
  const before = (await addressBook()).get(NAME)!;
  dnsServer?.kill('SIGKILL');
  dnsServer = null;
  const failed = await waitFor('a failed lookup', (n) => n.failures > before.failures && n.lastError !== null);
  t.same(failed.addresses, [SERVER_B], 'the last good address is kept');
  t.match(await tcp(SERVER_B), { ok: true, received: 1000 }, 'and still permitted');
  t.match(await tcp(ADDR.server4), { ok: false, error: 'ETIMEDOUT' }, 'the old one still denied');
  const log = readFileSync(statePaths(topo.stateDir).logFile, 'utf8');
  t.match(log, `dns-name ${NAME}: A lookup failed`, 'the failure is logged');
  t.match(log, `keeping ${SERVER_B}`, 'with what is kept');
  const counters = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.ok(counters.dnsNames.failures >= failed.failures && counters.dnsNames.changes >= 1 && counters.dnsNames.answered >= 2,
    `show counters counts them: ${JSON.stringify(counters.dnsNames)}`);
  t.match((await topo.xdpfw(['show', 'counters'])).stdout, /DNS name lookups: +\d+ answered, \d+ failed/, 'in its text form too');
});
