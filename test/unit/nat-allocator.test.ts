// Source NAT allocation: no two live flows share a translated tuple, frees are reused, exhaustion is refused with a reason.
import t from 'tap';
import { PoolAllocator, type AllocationRequest, type SourceLease } from '../../lib/nat/allocator.js';
import { SourcePools } from '../../lib/nat/pools.js';
import type { NatConfig, PortRange, SourcePool } from '../../lib/nat/types.js';
import { prng } from '../helpers/prng.js';

const v4 = (s: string): bigint => s.split('.').reduce((a, o) => (a << 8n) | BigInt(o), 0n);
const TCP = 6;
const UDP = 17;
const GRE = 47;

function pool(name: string, first: string, last: string, ports: PortRange | null, more: Partial<SourcePool> = {}): SourcePool {
  return { id: 1, name, ranges: [{ family: 'inet', first: v4(first), last: v4(last) }], ports, overflow: null, hostAddressBase: null, addressPersistent: false, routingInstance: null, ...more };
}

function req(host: string, protocol = TCP, sourcePort = 40000, destination = '198.51.100.1'): AllocationRequest {
  return { protocol, host: v4(host), sourcePort, destination: v4(destination) };
}

function take(p: PoolAllocator | SourcePools, r: AllocationRequest, name = 'p'): SourceLease {
  const got = p instanceof PoolAllocator ? p.allocate(r) : p.allocate(name, r, null);
  if (!got.ok) throw new Error(got.message);
  return got.lease;
}

t.test('a /28 with every port 1024-65535: each (address, port) once, then exhaustion, then the freed ones again', async (t) => {
  const p = new PoolAllocator(pool('p', '192.0.2.0', '192.0.2.15', { low: 1024, high: 65535 }));
  const total = 16 * 64512;
  const seen = new Uint8Array(16 * 65536);
  let duplicates = 0;
  let outside = 0;
  const leases: SourceLease[] = [];
  const firstAddresses = new Set<bigint>();
  for (let k = 0; k < total; k++) {
    // Many inside hosts, all to one destination: the tightest case for collisions.
    const l = take(p, { protocol: TCP, host: BigInt(0x0a000000 + (k % 5000)), sourcePort: 40000, destination: 1n });
    if (k < 16) firstAddresses.add(l.address);
    const a = Number(l.address - v4('192.0.2.0'));
    if (a < 0 || a > 15 || l.port < 1024 || l.port > 65535) outside++;
    const slot = a * 65536 + l.port;
    if (seen[slot]) duplicates++;
    seen[slot] = 1;
    if (k % 4099 === 0) leases.push(l);
  }
  t.equal(duplicates, 0, 'no translated (address, port) twice');
  t.equal(outside, 0, 'every one inside the pool and its ports');
  t.equal(firstAddresses.size, 16, 'round robin over the addresses');
  t.equal(p.inUse(TCP), total);
  const full = p.allocate(req('10.0.0.1'));
  t.same(full.ok ? null : full.reason, 'pool-exhausted', 'exhausted: refused with its reason');
  t.match(full.ok ? '' : full.message, /pool 'p' has no free address and port for protocol 6/);
  t.ok(p.allocate(req('10.0.0.1', UDP)).ok, 'another protocol has its own ports');
  for (const l of leases) t.ok(p.free(l), `free ${l.address}:${l.port}`) || t.bailout();
  t.notOk(p.free(leases[0]), 'a second free is refused');
  const again = leases.map(() => take(p, req('10.0.0.2')));
  t.same(new Set(again.map((l) => `${l.address}:${l.port}`)), new Set(leases.map((l) => `${l.address}:${l.port}`)), 'exactly the freed tuples come back');
  t.notOk(p.allocate(req('10.0.0.3')).ok, 'and then it is full again');
});

t.test('released ports rest: fresh ports first, then the oldest released', async (t) => {
  const p = new PoolAllocator(pool('p', '192.0.2.1', '192.0.2.1', { low: 2000, high: 2003 }));
  const a = take(p, req('10.0.0.1'));
  const b = take(p, req('10.0.0.1'));
  p.free(b);
  p.free(a);
  t.same([take(p, req('10.0.0.1')).port, take(p, req('10.0.0.1')).port], [2002, 2003], 'ports never used before first');
  t.same([take(p, req('10.0.0.1')).port, take(p, req('10.0.0.1')).port], [2001, 2000], 'then the oldest release');
});

t.test('address-persistent: a host keeps one address across its flows and protocols', async (t) => {
  const p = new PoolAllocator(pool('p', '192.0.2.1', '192.0.2.4', { low: 2000, high: 2002 }, { addressPersistent: true }));
  const a = take(p, req('10.0.0.1'));
  const other = take(p, req('10.0.0.2'));
  t.not(other.address, a.address, 'the next host gets the next address');
  const mine = [take(p, req('10.0.0.1')), take(p, req('10.0.0.1')), take(p, req('10.0.0.1', UDP)), take(p, req('10.0.0.1', GRE))];
  t.same(mine.map((l) => l.address), [a.address, a.address, a.address, a.address]);
  const refused = p.allocate(req('10.0.0.1'));
  t.same(refused.ok ? null : refused.reason, 'persistent-address-exhausted', 'no port left on its address: refused, not moved');
  for (const l of [a, ...mine]) p.free(l);
  t.ok(p.allocate(req('10.0.0.1')).ok, 'after its last flow it gets an address again');
});

t.test('port no-translation: one address per host, ports kept, exhausted when every address is held', async (t) => {
  const p = new PoolAllocator(pool('p', '192.0.2.1', '192.0.2.2', null));
  const a1 = take(p, req('10.0.0.1', TCP, 5555));
  const a2 = take(p, req('10.0.0.1', UDP, 6666));
  const b = take(p, req('10.0.0.2', TCP, 5555));
  t.same([a1.port, a2.port, b.port], [5555, 6666, 5555], 'ports are not translated');
  t.equal(a1.address, a2.address, 'a host keeps its address');
  t.not(a1.address, b.address, 'two hosts never share one');
  const c = p.allocate(req('10.0.0.3'));
  t.same(c.ok ? null : c.reason, 'pool-exhausted');
  p.free(a1);
  t.notOk(p.allocate(req('10.0.0.3')).ok, 'the host still has a flow on it');
  p.free(a2);
  t.equal(take(p, req('10.0.0.3')).address, a1.address, 'its last flow gone, the address is free');
});

t.test('host-address-base maps hosts one to one onto the pool', async (t) => {
  const p = new PoolAllocator(pool('p', '192.0.2.10', '192.0.2.13', null, { hostAddressBase: v4('10.0.0.100') }));
  t.equal(take(p, req('10.0.0.102')).address, v4('192.0.2.12'));
  t.equal(take(p, req('10.0.0.100')).address, v4('192.0.2.10'));
  const out = p.allocate(req('10.0.0.104'));
  t.same(out.ok ? null : out.reason, 'host-outside-base');
  t.match(out.ok ? '' : out.message, /host 10\.0\.0\.104 is outside/);
});

t.test('protocols without ports: one inside host per (address, destination)', async (t) => {
  const p = new PoolAllocator(pool('p', '192.0.2.1', '192.0.2.1', { low: 1024, high: 65535 }));
  const a = take(p, req('10.0.0.1', GRE, 0, '198.51.100.1'));
  const refused = p.allocate(req('10.0.0.2', GRE, 0, '198.51.100.1'));
  t.same(refused.ok ? null : refused.reason, 'pool-exhausted', 'a second host toward the same destination would be ambiguous');
  t.ok(p.allocate(req('10.0.0.2', GRE, 0, '198.51.100.2')).ok, 'another destination is told apart');
  t.ok(p.free(a));
  t.notOk(p.free(a), 'freed once');
  t.ok(p.allocate(req('10.0.0.2', GRE, 0, '198.51.100.1')).ok);
});

t.test('overflow: an exhausted no-translation pool hands flows to its overflow pool, then to the egress interface', async (t) => {
  const nat: NatConfig = {
    source: {
      pools: [
        pool('a', '192.0.2.1', '192.0.2.1', null, { overflow: { kind: 'pool', pool: 'b' } }),
        pool('b', '192.0.2.2', '192.0.2.2', null, { overflow: { kind: 'interface' } }),
      ],
      ruleSets: [],
      defaultPorts: { low: 1024, high: 65535 },
    },
    destination: { pools: [], ruleSets: [] },
    static: { ruleSets: [] },
    proxyArp: [],
    proxyNdp: [],
  };
  const pools = new SourcePools(nat);
  const egress = { family: 'inet' as const, address: v4('203.0.113.1') };
  const got = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((h) => pools.allocate('a', req(h), egress));
  const where = got.map((g) => (g.ok ? `${g.lease.pool} ${g.lease.address}` : g.reason));
  t.same(where, [`a ${v4('192.0.2.1')}`, `b ${v4('192.0.2.2')}`, `interface 203.0.113.1 ${v4('203.0.113.1')}`, `interface 203.0.113.1 ${v4('203.0.113.1')}`]);
  const ports = got.slice(2).map((g) => (g.ok ? g.lease.port : -1));
  t.not(ports[0], ports[1], 'the interface address overloads ports');
  const last = got[3];
  if (last.ok) t.ok(pools.free(last.lease), 'an interface lease frees');
  const noEgress = pools.allocate('a', req('10.0.0.9'), null);
  t.same(noEgress.ok ? null : noEgress.reason, 'pool-exhausted', 'without an egress address the overflow to the interface is refused');
});

t.test('random allocate and free against a model: unique live tuples, refused only when full', async (t) => {
  const seed = 20261207;
  const rand = prng(seed);
  const p = new PoolAllocator(pool('p', '192.0.2.0', '192.0.2.3', { low: 2000, high: 2009 }));
  const capacity = 4 * 10;
  const live = new Map<number, SourceLease[]>([[TCP, []], [UDP, []]]);
  const keys = new Map<number, Set<string>>([[TCP, new Set()], [UDP, new Set()]]);
  let wrong = 0;
  for (let k = 0; k < 20_000; k++) {
    const protocol = rand() < 0.5 ? TCP : UDP;
    const mine = live.get(protocol)!;
    const used = keys.get(protocol)!;
    if (rand() < 0.55) {
      const got = p.allocate(req(`10.0.${Math.floor(rand() * 4)}.${Math.floor(rand() * 250)}`, protocol));
      if (got.ok !== (mine.length < capacity)) wrong++;
      if (!got.ok) continue;
      const key = `${got.lease.address}:${got.lease.port}`;
      if (used.has(key)) wrong++;
      used.add(key);
      mine.push(got.lease);
    } else if (mine.length > 0) {
      const [l] = mine.splice(Math.floor(rand() * mine.length), 1);
      if (!p.free(l)) wrong++;
      used.delete(`${l.address}:${l.port}`);
    }
    if (p.inUse(protocol) !== mine.length) wrong++;
  }
  t.equal(wrong, 0, `seed ${seed}: every step as the model says`);
});
