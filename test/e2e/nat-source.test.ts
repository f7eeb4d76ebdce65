// End to end, real daemon, real TCP/UDP/ICMP: source NAT. The server has no route back to the
// clients: only translated flows can work. 20 clients' TCP connects at once through a pool all
// work, and the server sees pool addresses and ports, no two alike; `source-nat interface`
// shows the firewall's own address; a UDP datagram to a closed port comes back as ICMP port
// unreachable through the translation (the client's connected socket is refused); a pool with
// two ports refuses a third flow and counts it.
import { type ChildProcess, spawn } from 'node:child_process';
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import { ADDR, Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
const servers: ChildProcess[] = [];

const PEER_SERVER = `
import socket, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 5001)); s.listen(128)
print('ready', flush=True)
while True:
    c, peer = s.accept()
    c.sendall(f'{peer[0]}:{peer[1]}\\n'.encode()); c.close()
`;

/** From the client: `n` TCP connects at once; each line: the peer the server saw, or an error. */
const CLIENTS = (n: number): string => `
import socket, threading
out = [None] * ${n}
def one(i):
    try:
        c = socket.create_connection(('${ADDR.server4}', 5001), timeout=5)
        out[i] = c.recv(100).decode().strip(); c.close()
    except Exception as e:
        out[i] = 'error ' + type(e).__name__
ts = [threading.Thread(target=one, args=(i,)) for i in range(${n})]
[x.start() for x in ts]; [x.join() for x in ts]
print('\\n'.join(out))
`;

/** A connected UDP socket to a closed port: 'refused' when the ICMP port unreachable came back. */
const CLOSED_PORT = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect(('${ADDR.server4}', 5999))
s.send(b'x')
try:
    s.recv(10); print('answered')
except ConnectionRefusedError:
    print('refused')
except socket.timeout:
    print('timeout')
`;

/** UDP datagrams from `n` source ports; prints how many got an echo back. */
const UDP_FLOWS = (n: number): string => `
import socket
ok = 0
for i in range(${n}):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5)
    s.sendto(b'x', ('${ADDR.server4}', 5002))
    try:
        s.recv(10); ok += 1
    except socket.timeout:
        pass
print(ok)
`;

const UDP_ECHO = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 5002))
print('ready', flush=True)
while True:
    d, a = s.recvfrom(100); s.sendto(d, a)
`;

function natConfig(then: string, pool = '', proxy = ''): string {
  return basicConfig().replace('\n    flow {', `
    nat {
        source {
            ${pool}
            rule-set out {
                from zone trust;
                to zone untrust;
                rule all { match { source-address 10.1.0.0/24; } then { source-nat { ${then} } } }
            }
        }
        ${proxy}
    }
    flow {`);
}

const POOL = natConfig('pool { p; }', 'pool p { address { 10.2.0.100/32 to 10.2.0.101/32; } port { range 2000 to 2049; } }',
  'proxy-arp { interface untrust0 { address { 10.2.0.100/32 to 10.2.0.101/32; } } }');

async function python(host: 'client' | 'server', code: string): Promise<string> {
  const r = await topo.exec(host, 'python3', ['-c', code], 60_000);
  if (r.code !== 0) throw new Error(`${host}: python: ${r.stderr}`);
  return r.stdout.trim();
}

t.before(async () => {
  topo = await Topology.create();
  // No way back but through the translation.
  await topo.sh('server', 'ip route del default');
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(POOL)]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  for (const code of [PEER_SERVER, UDP_ECHO]) {
    const child = spawn('nsenter', [`--net=/run/netns/${topo.ns.server}`, 'python3', '-c', code], { stdio: ['ignore', 'pipe', 'ignore'] });
    servers.push(child);
    await new Promise<void>((ready) => child.stdout!.once('data', () => ready()));
  }
});

t.teardown(async () => {
  for (const c of servers) c.kill('SIGKILL');
  await topo?.destroy();
});

t.test('20 clients at once through a pool: all connect, the server sees pool addresses, no two alike', async (t) => {
  const seen = (await python('client', CLIENTS(20))).split('\n');
  t.equal(seen.length, 20);
  t.same(seen.filter((l) => l.startsWith('error')), [], 'every connect worked');
  for (const peer of seen) t.match(peer, /^10\.2\.0\.10[01]:20[0-4]\d$/, `${peer}: a pool address and port`);
  t.equal(new Set(seen).size, 20, 'distinct translated tuples');
  const sessions = await topo.xdpfwJson<{ sessions: Array<{ destinationPort: number }> }>(['show', 'sessions']).catch(() => null);
  t.ok(sessions, 'show sessions still answers');
});

t.test('a UDP datagram to a closed port: the ICMP port unreachable reaches the client through the translation', async (t) => {
  t.equal(await python('client', CLOSED_PORT), 'refused');
});

t.test('a pool with two ports: a third flow is refused, counted', async (t) => {
  const small = natConfig('pool { tiny; }', 'pool tiny { address { 10.2.0.100/32; } port { range 3000 to 3001; } }',
    'proxy-arp { interface untrust0 { address { 10.2.0.100/32; } } }');
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(small)]);
  t.equal(r.code, 0, r.stderr);
  const before = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.equal(await python('client', UDP_FLOWS(3)), '2', 'two flows translated and answered, the third not');
  const after = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  const refused = (after.drops['nat_pool_exhausted'] ?? 0) - (before.drops['nat_pool_exhausted'] ?? 0);
  t.ok(refused >= 1, `refused flows counted as nat_pool_exhausted (${refused})`);
});

t.test('source-nat interface: the server sees the firewall\'s untrust address', async (t) => {
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(natConfig('interface;'))]);
  t.equal(r.code, 0, r.stderr);
  const seen = (await python('client', CLIENTS(3))).split('\n');
  for (const peer of seen) t.match(peer, new RegExp(`^${ADDR.fwUntrust4.replace(/\./g, '\\.')}:\\d+$`), `${peer}: the interface address`);
  t.equal(new Set(seen).size, 3);
});
