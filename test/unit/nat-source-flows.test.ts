// Source NAT of new flows as the slow path asks for it: the translated tuple, the two
// xdpfw_nat_sessions entries XDP finds both directions by, distinct tuples for many clients,
// exhaustion refused and counted, frees reused; and the config check no longer refuses it.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { FLOW_KEY, NAT_SESSION, NAT_TUPLE, SESSION_KEY } from '../../lib/dataplane/layout.js';
import { translateSource } from '../../lib/nat/flow-translation.js';
import type { NatSide } from '../../lib/nat/lookup.js';
import { SourceNat } from '../../lib/nat/source-nat.js';
import { flowKeyOf } from '../../lib/session/entry.js';
import { reverseKey } from '../../lib/session/flow-key.js';

const K = SESSION_KEY.offset;
const N = NAT_SESSION.offset;
const T = NAT_TUPLE.offset;

const BASE = [
  'set interfaces eth0 unit 0 family inet',
  'set interfaces eth1 unit 0 family inet',
  'set security zones security-zone trust interfaces eth0',
  'set security zones security-zone untrust interfaces eth1',
];
const TRUST: NatSide = { interface: 'eth0', zone: 'trust', routingInstance: 'default' };
const UNTRUST: NatSide = { interface: 'eth1', zone: 'untrust', routingInstance: 'default' };

function compile(lines: string[]): ReturnType<typeof compileText> {
  return compileText([...BASE, ...lines].join('\n'), 'n.conf', { requireInterfaces: false });
}

function sourceNat(lines: string[]): SourceNat {
  const r = compile(lines);
  if (!r.ok || !r.config.nat) throw new Error(r.ok ? 'no NAT' : r.errors.join('\n'));
  return new SourceNat(r.config.nat);
}

/** struct xdpfw_session_key of an IPv4 flow. */
function tuple(src: string, sport: number, dst: string, dport: number, protocol = 6): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[K.family] = 2;
  k[K.protocol] = protocol;
  k.writeUInt16BE(sport, K.src_port);
  k.writeUInt16BE(dport, K.dst_port);
  Buffer.from(src.split('.').map(Number)).copy(k, K.src_addr);
  Buffer.from(dst.split('.').map(Number)).copy(k, K.dst_addr);
  return k;
}

const ip = (b: Buffer, at: number): string => [...b.subarray(at, at + 4)].join('.');
const NO_ADDRESS = (): Uint8Array | null => null;

const POOL = [
  'set security nat source pool p address 203.0.113.8/31',
  'set security nat source pool p port range 2000 to 2009',
  'set security nat source rule-set out from zone trust',
  'set security nat source rule-set out to zone untrust',
  'set security nat source rule-set out rule all match source-address 10.0.0.0/8',
  'set security nat source rule-set out rule all then source-nat pool p',
];

t.test('source NAT is accepted by the config check; destination and static NAT are still refused', async (t) => {
  t.ok(compile(POOL).ok, 'security nat source compiles');
  const dnat = compile([
    'set security nat destination pool d address 10.0.0.5/32',
    'set security nat destination rule-set in from zone untrust rule r match destination-address 203.0.113.1/32',
    'set security nat destination rule-set in from zone untrust rule r then destination-nat pool d',
  ]);
  t.notOk(dnat.ok, 'security nat destination is refused');
  t.match(dnat.ok ? '' : dnat.errors.join('\n'), /security nat destination not supported/);
});

t.test('a translated flow: its tuple, and the entries of both directions', async (t) => {
  const nat = sourceNat(POOL);
  const original = tuple('10.1.1.1', 40000, '198.51.100.7', 80);
  const r = translateSource(nat, original, TRUST, UNTRUST, NO_ADDRESS);
  if (r.kind !== 'translated') throw new Error(r.kind);
  const tr = r.session.translated;
  t.equal(ip(tr, K.src_addr), '203.0.113.8', 'source: a pool address');
  t.equal(tr.readUInt16BE(K.src_port), 2000, 'source port: the pool range');
  t.equal(ip(tr, K.dst_addr), '198.51.100.7', 'destination kept');
  const [fwd, back] = r.session.entries;
  const sessionKey = Buffer.alloc(FLOW_KEY.size);
  flowKeyOf(original, sessionKey);
  t.same(fwd.key, sessionKey, 'the client\'s packets: under the session\'s own key');
  t.same(fwd.value.subarray(N.session, N.session + FLOW_KEY.size), sessionKey);
  t.equal(fwd.value[N.dir], 0);
  t.equal(ip(fwd.value, N.to + T.src_addr), '203.0.113.8', 'they leave from the pool address');
  t.equal(fwd.value.readUInt16BE(N.to + T.src_port), 2000);
  const replyKey = Buffer.alloc(FLOW_KEY.size);
  flowKeyOf(reverseKey(tr, Buffer.alloc(SESSION_KEY.size)), replyKey);
  t.same(back.key, replyKey, 'the server\'s packets: under the translated tuple');
  t.same(back.value.subarray(N.session, N.session + FLOW_KEY.size), sessionKey, 'naming the session entry');
  t.equal(back.value[N.dir], 1);
  t.equal(ip(back.value, N.to + T.src_addr), '198.51.100.7');
  t.equal(ip(back.value, N.to + T.dst_addr), '10.1.1.1', 'they leave to the client');
  t.equal(back.value.readUInt16BE(N.to + T.dst_port), 40000);
  // 198.51.100.7 sorts after 10.1.1.1 and before 203.0.113.8: one entry stored swapped, one not.
  t.equal(fwd.value[N.swapped], 0);
  t.equal(back.value[N.swapped], 0);
  const fromHigh = translateSource(nat, tuple('10.1.1.1', 40001, '9.9.9.9', 80), TRUST, UNTRUST, NO_ADDRESS);
  if (fromHigh.kind !== 'translated') throw new Error(fromHigh.kind);
  t.equal(fromHigh.session.entries[0].value[N.swapped], 1, 'a client above its server: its packets\' tuple is stored swapped');
});

t.test('20 clients at once get 20 distinct tuples; the 21st is refused and counted; a close frees one', async (t) => {
  const nat = sourceNat(POOL);
  const seen = new Set<string>();
  const live = [];
  for (let i = 0; i < 20; i++) {
    const r = translateSource(nat, tuple(`10.0.0.${i + 1}`, 33000, '198.51.100.7', 80), TRUST, UNTRUST, NO_ADDRESS);
    if (r.kind !== 'translated') throw new Error(`client ${i}: ${r.kind}`);
    seen.add(`${ip(r.session.translated, K.src_addr)}:${r.session.translated.readUInt16BE(K.src_port)}`);
    live.push(r.session);
  }
  t.equal(seen.size, 20, 'no two clients share a translated address and port');
  const refused = translateSource(nat, tuple('10.0.0.99', 33000, '198.51.100.7', 80), TRUST, UNTRUST, NO_ADDRESS);
  t.equal(refused.kind, 'refused', 'pool exhausted: the flow is refused');
  t.same(nat.ruleCounters.get('out/all'), { hits: 20, failures: 1 });
  t.same(nat.poolCounters.get('p'), { hits: 20, failures: 1 });
  t.equal(nat.inUse.get('p'), 20);
  nat.free(live[3]!.translation);
  t.equal(nat.inUse.get('p'), 19);
  t.equal(translateSource(nat, tuple('10.0.0.99', 33000, '198.51.100.7', 80), TRUST, UNTRUST, NO_ADDRESS).kind, 'translated', 'a freed tuple is given again');
});

t.test('source-nat interface: the egress address, ports overloaded; none when the interface has no address', async (t) => {
  const nat = sourceNat([
    'set security nat source rule-set out from zone trust',
    'set security nat source rule-set out to zone untrust',
    'set security nat source rule-set out rule all match source-address 0.0.0.0/0',
    'set security nat source rule-set out rule all then source-nat interface',
  ]);
  const egress = (): Uint8Array => Uint8Array.from([192, 0, 2, 1]);
  const a = translateSource(nat, tuple('10.0.0.1', 5000, '198.51.100.7', 80), TRUST, UNTRUST, egress);
  const b = translateSource(nat, tuple('10.0.0.2', 5000, '198.51.100.7', 80), TRUST, UNTRUST, egress);
  if (a.kind !== 'translated' || b.kind !== 'translated') throw new Error('not translated');
  t.equal(ip(a.session.translated, K.src_addr), '192.0.2.1');
  t.equal(ip(b.session.translated, K.src_addr), '192.0.2.1');
  t.not(a.session.translated.readUInt16BE(K.src_port), b.session.translated.readUInt16BE(K.src_port), 'distinct ports');
  t.equal(translateSource(nat, tuple('10.0.0.3', 5000, '198.51.100.7', 80), TRUST, UNTRUST, NO_ADDRESS).kind, 'refused');
  t.equal(translateSource(nat, tuple('10.0.0.3', 5000, '198.51.100.7', 80), UNTRUST, TRUST, egress).kind, 'untranslated', 'other zone pair: untouched');
});

t.test('ICMP echo: the identifier is translated like a port, the reply entry expects it as the destination port', async (t) => {
  const nat = sourceNat(POOL);
  const r = translateSource(nat, tuple('10.1.1.1', 777, '198.51.100.7', 0, 1), TRUST, UNTRUST, NO_ADDRESS);
  if (r.kind !== 'translated') throw new Error(r.kind);
  const id = r.session.translated.readUInt16BE(K.src_port);
  t.ok(id >= 2000 && id <= 2009);
  const back = r.session.entries[1];
  t.equal(back.value.readUInt16BE(N.to + T.dst_port), 777, 'the reply leaves with the client\'s identifier');
});
