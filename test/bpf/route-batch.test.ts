// The batched route lookup of the slow path against the single one, on the real object in the
// kernel: xdpfw_route_batch answers a batch of packets' routes in one run, and each answer is the
// one xdpfw_route gives that packet alone (forwarded with and without a known neighbour, to the
// box, to a connected socket of the box, no route, a policy-routing table; IPv4 and IPv6).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS, 'ip route add 198.51.100.0/24 via 10.9.0.2 dev out0 table 200', 'ip route add unreachable 203.0.113.0/24']);

const { default: t } = await import('tap');
const { createSocket } = await import('node:dgram');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { RouteProbe } = await import('../../lib/slowpath/route-probe.js');
const { ROUTE_BATCH_CAPACITY, ROUTE_BATCH_MAX, RouteBatch } = await import('../../lib/slowpath/route-batch.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;

if (!insideTestNetns()) throw new Error('not in the test namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const IN = native.ifNameToIndex('in0');
const OUT = native.ifNameToIndex('out0');

// A connected UDP socket of the box: packets answering it are replies to the box's own connection.
const box = createSocket('udp4');
await new Promise<void>((done) => box.bind(7000, '10.8.0.1', () => done()));
await new Promise<void>((done) => box.connect(7001, '10.8.0.2', () => done()));
// A service of the box on port 7100 (unconnected) and a socket it connected to one peer on the
// same port: that peer's packets are the service's traffic, not replies to the box's connection.
const service = createSocket({ type: 'udp4', reuseAddr: true });
await new Promise<void>((done) => service.bind(7100, '10.8.0.1', () => done()));
const perPeer = createSocket({ type: 'udp4', reuseAddr: true });
await new Promise<void>((done) => perPeer.bind(7100, '10.8.0.1', () => done()));
await new Promise<void>((done) => perPeer.connect(7101, '10.8.0.2', () => done()));

t.teardown(() => {
  box.close();
  service.close();
  perPeer.close();
  dp.close();
  purgePins(paths);
});

/** The session key XDP builds for `spec` (ports in network order). */
function keyOf(spec: FrameSpec): Buffer {
  const v4 = !spec.src.includes(':');
  const k = Buffer.alloc(SESSION_KEY.size);
  k[SESSION_KEY.offset.family] = v4 ? 2 : 10;
  k[SESSION_KEY.offset.protocol] = 17;
  k.writeUInt16BE(spec.sport ?? 0, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(spec.dport ?? 0, SESSION_KEY.offset.dst_port);
  ipBytes(spec.src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(spec.dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

const CASES: Array<{ name: string; spec: FrameSpec; table?: number; want: { local: boolean; boxConnection: boolean; egress: number; resolved: boolean } }> = [
  { name: 'forwarded, neighbour known', spec: { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 1000, dport: 53 },
    want: { local: false, boxConnection: false, egress: OUT, resolved: true } },
  { name: 'forwarded, no neighbour yet', spec: { src: '10.8.0.2', dst: '10.9.0.77', protocol: 'udp', sport: 1001, dport: 53 },
    want: { local: false, boxConnection: false, egress: OUT, resolved: false } },
  { name: 'to the box', spec: { src: '10.8.0.2', dst: '10.8.0.1', protocol: 'udp', sport: 1002, dport: 53 },
    want: { local: true, boxConnection: false, egress: 0, resolved: false } },
  { name: 'a reply to a connection of the box', spec: { src: '10.8.0.2', dst: '10.8.0.1', protocol: 'udp', sport: 7001, dport: 7000 },
    want: { local: true, boxConnection: true, egress: 0, resolved: false } },
  { name: "a service's socket connected to one peer", spec: { src: '10.8.0.2', dst: '10.8.0.1', protocol: 'udp', sport: 7101, dport: 7100 },
    want: { local: true, boxConnection: false, egress: 0, resolved: false } },
  { name: 'an unreachable route', spec: { src: '10.8.0.2', dst: '203.0.113.1', protocol: 'udp', sport: 1003, dport: 53 },
    want: { local: false, boxConnection: false, egress: 0, resolved: false } },
  { name: 'policy-routing table 200', spec: { src: '10.8.0.2', dst: '198.51.100.1', protocol: 'udp', sport: 1004, dport: 53 }, table: 200,
    want: { local: false, boxConnection: false, egress: OUT, resolved: true } },
  { name: 'IPv6 forwarded', spec: { src: 'fd08::2', dst: 'fd09::2', protocol: 'udp', sport: 1005, dport: 53 },
    want: { local: false, boxConnection: false, egress: OUT, resolved: true } },
  { name: 'IPv6 to the box', spec: { src: 'fd08::2', dst: 'fd09::1', protocol: 'udp', sport: 1006, dport: 53 },
    want: { local: true, boxConnection: false, egress: 0, resolved: false } },
];

t.test('one batched run answers each packet as the single probe does', async (t) => {
  const batch = new RouteBatch(dp.progs.routeBatch);
  const probe = new RouteProbe(dp.progs.route);
  const slots = CASES.map((c) => batch.add(keyOf(c.spec), c.table ?? 0, 0));
  batch.resolve(IN, 0);
  t.equal(batch.stats.runs, 1, 'one run for the batch');
  CASES.forEach((c, i) => {
    const data = frame(c.spec);
    const alone = probe.lookup(data, 0, data.length, IN, 0, c.table ?? 0);
    const batched = batch.route(slots[i]!);
    t.same(batched, c.want, `${c.name}: ${JSON.stringify(c.want)}`);
    t.same(batched, alone, `${c.name}: as xdpfw_route answers it alone`);
  });
});

t.test('a full receive batch: more questions than one run takes, asked in two runs', async (t) => {
  const batch = new RouteBatch(dp.progs.routeBatch);
  for (let i = 0; i < ROUTE_BATCH_CAPACITY; i++) batch.add(keyOf({ ...CASES[i % CASES.length]!.spec }), CASES[i % CASES.length]!.table ?? 0, 0);
  t.ok(batch.full, `full at ${ROUTE_BATCH_CAPACITY}`);
  batch.resolve(IN, 0);
  t.equal(batch.stats.runs, Math.ceil(ROUTE_BATCH_CAPACITY / ROUTE_BATCH_MAX), `runs of at most ${ROUTE_BATCH_MAX}`);
  const wrong = [];
  for (let i = 0; i < ROUTE_BATCH_CAPACITY; i++) if (JSON.stringify(batch.route(i)) !== JSON.stringify(CASES[i % CASES.length]!.want)) wrong.push(i);
  t.same(wrong, [], 'every entry answered as its packet alone is');
});
