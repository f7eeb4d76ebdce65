// proxy-arp and proxy-ndp on the compiled XDP object under BPF_PROG_RUN: an ARP
// request or neighbour solicitation for a proxied address on the interface it
// is proxied on is answered in XDP (XDP_TX) with that interface's MAC address,
// the answer checked byte by byte (the NA's checksum recomputed here); anything
// else goes on exactly as without proxies. Its own namespace (TWO_PORTS):
//   in0 (10.8.0.1/24, fd08::1/64, zone untrust)   out0 (10.9.0.1/24, fd09::1/64, zone trust)
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS, 'ip link set in0 address 02:00:00:00:08:01']);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { neighborProxyEntries, readNeighborProxies, writeNeighborProxies } = await import('../../lib/nat/neighbor-proxy-map.js');
const { checksum, frame, ipBytes, mac } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_PASS, XDP_TX } = await import('../../lib/dataplane/xdp-abi.js');

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const IN = native.ifNameToIndex('in0');
const OUT = native.ifNameToIndex('out0');
dp.registerPort(IN, 0, 1);
dp.registerPort(OUT, 1, 2);
t.teardown(() => {
  dp.close();
  purgePins(paths);
});

const IN_MAC = '02:00:00:00:08:01';
const PEER_MAC = '02:00:00:00:08:02';
const ip4 = (a: string): bigint => BigInt(ipBytes(a).readUInt32BE(0));
const ip6 = (a: string): bigint => BigInt(`0x${ipBytes(a).toString('hex')}`);
writeNeighborProxies(dp, neighborProxyEntries([
  { device: 'in0', family: 'inet', first: ip4('10.8.0.50'), last: ip4('10.8.0.52') },
  { device: 'in0', family: 'inet6', first: ip6('fd08::50'), last: ip6('fd08::50') },
]));

function run(data: Buffer, ifindex = IN): { retval: number; out: Buffer; counters: Record<string, number> } {
  const before = dp.readCounters();
  const r = native.progTestRun(dp.progs.rx, { data, ifindex, rxQueue: 0, dataOutSize: data.length + 64 });
  const counters: Record<string, number> = {};
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) counters[name] = d;
  }
  return { retval: r.retval, out: r.dataOut ?? Buffer.alloc(0), counters };
}

/** An ARP request (or `op`) from 10.8.0.2 at PEER_MAC for `target`, padded to 60 bytes. */
function arp(target: string, op = 1, sender = '10.8.0.2'): Buffer {
  const f = Buffer.alloc(60);
  mac('ff:ff:ff:ff:ff:ff').copy(f, 0);
  mac(PEER_MAC).copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(op, 20);
  mac(PEER_MAC).copy(f, 22);
  ipBytes(sender).copy(f, 28);
  ipBytes(target).copy(f, 38);
  return f;
}

/** A neighbour solicitation for `target`, with a source link-layer address option unless `bare`. */
function ns(target: string, opts: { src?: string; dst?: string; hopLimit?: number; bare?: boolean } = {}): Buffer {
  const sll = Buffer.concat([Buffer.from([1, 1]), mac(PEER_MAC)]);
  const f = frame({
    src: opts.src ?? 'fd08::2', dst: opts.dst ?? 'ff02::1:ff00:50', protocol: 'icmp6', icmpType: 135, ttl: opts.hopLimit ?? 255,
    payload: opts.bare ? ipBytes(target) : Buffer.concat([ipBytes(target), sll]), srcMac: PEER_MAC, dstMac: '33:33:ff:00:00:50',
  });
  f.writeUInt32BE(0, 14 + 40 + 4); // the NS's reserved field
  return f;
}

t.test('an ARP request for a proxied address is answered with the interface MAC', async (t) => {
  for (const target of ['10.8.0.50', '10.8.0.52']) {
    const r = run(arp(target));
    t.equal(r.retval, XDP_TX, `${target}: sent back`);
    t.same(r.counters, { PROXY_ARP_ANSWER: 1 }, 'counted as an answer');
    const o = r.out;
    t.equal(o.subarray(0, 6).toString('hex'), mac(PEER_MAC).toString('hex'), 'to the asker');
    t.equal(o.subarray(6, 12).toString('hex'), mac(IN_MAC).toString('hex'), 'from in0');
    t.equal(o.readUInt16BE(20), 2, 'an ARP reply');
    t.equal(o.subarray(22, 28).toString('hex'), mac(IN_MAC).toString('hex'), 'sender hardware address: in0');
    t.same([...o.subarray(28, 32)], [...ipBytes(target)], 'sender protocol address: the proxied one');
    t.equal(o.subarray(32, 38).toString('hex'), mac(PEER_MAC).toString('hex'), 'target hardware address: the asker');
    t.same([...o.subarray(38, 42)], [10, 8, 0, 2], 'target protocol address: the asker');
  }
});

t.test('other ARP goes to the kernel as before', async (t) => {
  const pass = { retval: XDP_PASS, counters: { PASS_NON_IP: 1 } };
  const verdict = (f: Buffer, ifindex = IN) => {
    const r = run(f, ifindex);
    return { retval: r.retval, counters: r.counters };
  };
  t.same(verdict(arp('10.8.0.53')), pass, 'an address just past the range');
  t.same(verdict(arp('10.8.0.1')), pass, "the box's own address: the kernel answers");
  t.same(verdict(arp('10.8.0.50'), OUT), pass, 'a proxied address asked on another interface');
  t.same(verdict(arp('10.8.0.50', 2)), pass, 'an ARP reply');
  t.same(verdict(arp('10.8.0.50', 1, '10.8.0.50')), pass, 'a gratuitous ARP');
});

function naChecksumOk(o: Buffer): boolean {
  const icmp = o.subarray(54);
  const pseudo = Buffer.alloc(40);
  o.copy(pseudo, 0, 22, 54);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  return checksum(icmp, checksum(pseudo)) === 0xffff;
}

t.test('a neighbour solicitation for a proxied address is answered with an advertisement', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['multicast, with a source link-layer option', ns('fd08::50')],
    ['unicast (reachability), without options: the frame grows', ns('fd08::50', { dst: 'fd08::50', bare: true })],
  ];
  for (const [name, f] of cases) {
    const r = run(f);
    t.equal(r.retval, XDP_TX, `${name}: sent back`);
    t.same(r.counters, { PROXY_NDP_ANSWER: 1 }, 'counted as an answer');
    const o = r.out;
    t.equal(o.length, 14 + 40 + 32, 'exactly the headers and the advertisement');
    t.equal(o.subarray(0, 6).toString('hex'), mac(PEER_MAC).toString('hex'), 'to the asker');
    t.equal(o.subarray(6, 12).toString('hex'), mac(IN_MAC).toString('hex'), 'from in0');
    t.equal(o[14]! >> 4, 6, 'IPv6');
    t.equal(o.readUInt16BE(18), 32, 'payload length');
    t.equal(o[21], 255, 'hop limit 255');
    t.equal(o.subarray(22, 38).toString('hex'), ipBytes('fd08::50').toString('hex'), 'from the proxied address');
    t.equal(o.subarray(38, 54).toString('hex'), ipBytes('fd08::2').toString('hex'), 'to the solicitation source');
    t.equal(o[54], 136, 'a neighbour advertisement');
    t.equal(o.readUInt32BE(58), 0x60000000, 'solicited, override');
    t.equal(o.subarray(62, 78).toString('hex'), ipBytes('fd08::50').toString('hex'), 'for the target');
    t.same([o[78], o[79]], [2, 1], 'a target link-layer address option');
    t.equal(o.subarray(80, 86).toString('hex'), mac(IN_MAC).toString('hex'), "with in0's MAC");
    t.ok(naChecksumOk(o), 'the ICMPv6 checksum is right');
  }
});

t.test('other solicitations go on as without proxies', async (t) => {
  const verdict = (f: Buffer, ifindex = IN) => {
    const r = run(f, ifindex);
    return { retval: r.retval, counters: r.counters };
  };
  t.same(verdict(ns('fd08::51')), { retval: XDP_PASS, counters: { PASS_NEIGHBOR: 1 } }, 'an address not proxied: to the kernel');
  t.same(verdict(ns('fd08::50', { src: '::' })), { retval: XDP_PASS, counters: { PASS_NEIGHBOR: 1 } },
    'duplicate address detection (from ::): the kernel\'s');
  t.same(verdict(ns('fd08::50', { hopLimit: 64 })), { retval: XDP_DROP, counters: { DROP_NEIGHBOR: 1 } },
    'hop limit 64: not from this link, dropped as before');
  t.same(verdict(ns('fd08::50'), OUT), { retval: XDP_PASS, counters: { PASS_NEIGHBOR: 1 } }, 'on another interface');
});

t.test('a reload that drops the proxies stops the answers at once', async (t) => {
  t.equal(readNeighborProxies(dp).keys.length, 4, 'three IPv4 addresses and one IPv6 address in the map');
  writeNeighborProxies(dp, neighborProxyEntries([{ device: 'in0', family: 'inet', first: ip4('10.8.0.52'), last: ip4('10.8.0.52') }]));
  t.equal(readNeighborProxies(dp).keys.length, 1, 'only what is still named');
  t.same(run(arp('10.8.0.50')).counters, { PASS_NON_IP: 1 }, 'no longer answered');
  t.same(run(arp('10.8.0.52')).counters, { PROXY_ARP_ANSWER: 1 }, 'still answered');
  t.same(run(ns('fd08::50')).counters, { PASS_NEIGHBOR: 1 }, 'IPv6 no longer answered');
});
