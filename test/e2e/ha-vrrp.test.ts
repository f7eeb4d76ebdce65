// The pair's gateway addresses move with real keepalived, configured by
// `xdpfw ha generate keepalived`: box a (priority 200) holds the virtual IPs,
// its keepalived is killed with -9 and box b takes them (the client's
// neighbour entry follows b's gratuitous ARP); a's keepalived returns and
// preempts. Each daemon's `show ha` reports the role its keepalived's notify
// hook gave it; the same when a's gateway link goes down. conntrackd, configured by `xdpfw ha generate conntrackd`,
// ships a's conntrack entries over the peer link into b's external cache.
// The gaps are measured and reported, not asserted.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { type Box, HaPair, VIP4, VIP6 } from '../helpers/ha-pair.js';
import type { HaStatus } from '../../lib/ha/roles.js';
import { request } from '../../lib/control/client.js';
import { statePaths } from '../../lib/daemon/state-paths.js';

const run = promisify(execFile);
const WAIT_MS = 60_000;

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pair = await HaPair.create();
t.teardown(() => pair.destroy());

// Polled over the control socket (the CLI's `show ha --json` answer) rather than a process per poll.
const role = async (box: Box): Promise<string | null> =>
  (await request<HaStatus>(statePaths(pair.stateDir(box)).socket, { command: 'show-ha' })).groups.find((g) => g.group === 1)?.role ?? null;
const holds = async (box: Box): Promise<boolean> => {
  const a = await pair.addresses(box);
  return a.includes(VIP4) && a.includes(VIP6);
};

await Promise.all([pair.loadDaemon('a', 200), pair.loadDaemon('b', 100)]);

t.test('before keepalived reports, show ha has the configured pair and no role', async (t) => {
  const s = JSON.parse(await pair.xdpfw('a', ['show', 'ha', '--json'])) as HaStatus;
  t.equal(s.configured, true);
  t.same(s.peer, { id: 2, ip: '10.254.0.2', interface: 'sync0', advertMs: 100 });
  t.same(s.groups.map((g) => [g.group, g.role, g.priority]), [[1, null, 200]]);
  t.match(await pair.xdpfw('a', ['status']), /High availability: local-id 1, peer-id 2 at 10\.254\.0\.2 on sync0/);
});

t.test('a (higher priority) becomes active and holds both virtual IPs; b is backup', async (t) => {
  await Promise.all([pair.startKeepalived('a'), pair.startKeepalived('b')]);
  await until('a active', async () => (await role('a')) === 'active' && (await role('b')) === 'backup');
  await until('the virtual IPs on a', () => holds('a'));
  t.equal(await holds('b'), false, 'b holds no virtual IP');
  t.match(await pair.xdpfw('b', ['show', 'ha']), /services-redundancy-group 1: backup since .*, priority 100, preemption, virtual IPs 10\.1\.0\.1\/24 on trust0, fd00:1::1\/64 on trust0/);
  // The client resolves the gateway: a's MAC.
  await pair.sh('client', `ping -c 1 -W 2 ${VIP4} || true`);
  t.equal(await pair.clientNeighbour(VIP4), await pair.mac('a'));
  t.match(await pair.xdpfw('a', ['status']), /services-redundancy-group 1: active/);
});

t.test('a\'s keepalived killed with -9: b takes the virtual IPs, the client follows, b reports active', async (t) => {
  const macB = await pair.mac('b');
  const t0 = performance.now();
  await pair.killKeepalived('a');
  const tKilled = performance.now();
  await until('the virtual IPs on b', () => holds('b'));
  const tVip = performance.now();
  await until('the client\'s neighbour entry on b', async () => (await pair.clientNeighbour(VIP4)) === macB);
  const tClient = performance.now();
  await until('b active', async () => (await role('b')) === 'active');
  const tRole = performance.now();
  t.pass('b holds the virtual IPs and the client reaches it');
  t.comment(`failover after kill -9 (kill at ${(tKilled - t0).toFixed(0)} ms): VIPs on b after ${(tVip - t0).toFixed(0)} ms, ` +
    `client's neighbour on b after ${(tClient - t0).toFixed(0)} ms, b's daemon active after ${(tRole - t0).toFixed(0)} ms ` +
    '(polling every 10 ms plus the time of each probe)');
  t.equal(await role('a'), 'active', 'a\'s daemon is told nothing when its keepalived dies: its last role stays');
});

t.test('a\'s keepalived returns and preempts: a active again, b backup and without the virtual IPs', async (t) => {
  const macA = await pair.mac('a');
  const t0 = performance.now();
  await pair.startKeepalived('a');
  await until('a active, b backup', async () => (await role('a')) === 'active' && (await role('b')) === 'backup');
  await until('no virtual IP left on b', async () => !(await pair.addresses('b')).includes(VIP4));
  await until('the client\'s neighbour entry on a', async () => (await pair.clientNeighbour(VIP4)) === macA);
  t.comment(`preemption: a active, b backup and the client on a ${(performance.now() - t0).toFixed(0)} ms after a's keepalived started`);
  t.equal(await holds('a'), true, 'a holds both virtual IPs');
  const s = await request<HaStatus>(statePaths(pair.stateDir('b')).socket, { command: 'show-ha' });
  t.ok((s.groups[0]?.transitions ?? 0) >= 3, 'b: backup, active, backup (more if adverts were late on a loaded machine)');
});

t.test('a\'s gateway link goes down: a reports fault, b takes the virtual IPs; the link returns and a preempts', async (t) => {
  const t0 = performance.now();
  await pair.sh('a', 'ip link set trust0 down');
  await until('b active, a fault', async () => (await role('b')) === 'active' && (await role('a')) === 'fault');
  await until('the virtual IPs on b', () => holds('b'));
  t.comment(`link down on a: b active and a fault ${(performance.now() - t0).toFixed(0)} ms later (as the daemons heard it)`);
  t.pass('a tracked interface down hands the group over');
  await pair.sh('a', 'ip link set trust0 up');
  await until('a active, b backup', async () => (await role('a')) === 'active' && (await role('b')) === 'backup');
  await until('the virtual IPs back on a', () => holds('a'));
  t.equal(await holds('b'), false, 'b gave them up');
});

t.test('conntrackd as generated: an entry written on a reaches b\'s external cache over the peer link', async (t) => {
  const [, confB] = await Promise.all([pair.startConntrackd('a'), pair.startConntrackd('b')]);
  await pair.sh('a', 'conntrack -I -p tcp -s 10.1.0.2 -d 10.9.0.9 --sport 40000 --dport 443 --state ESTABLISHED -t 600 -u ASSURED,SEEN_REPLY');
  const seen = await until('the entry in b\'s external cache', async () => {
    const { stdout } = await run('conntrackd', ['-C', confB, '-e']);
    return stdout.includes('dst=10.9.0.9') && stdout.includes('dport=443') ? stdout : null;
  });
  t.match(seen, /tcp\s+6 .*ESTABLISHED src=10\.1\.0\.2 dst=10\.9\.0\.9 sport=40000 dport=443/);
  t.equal((await pair.sh('b', 'conntrack -L 2>/dev/null')).includes('10.9.0.9'), false, 'not in b\'s kernel table until it commits');
});
