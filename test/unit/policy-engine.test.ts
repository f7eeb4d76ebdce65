import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { PolicyEngine, type PolicyDecision, type PolicyQuery } from '../../lib/policy/engine.js';

function engine(text: string): PolicyEngine {
  const r = compileText(text, 'engine.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return new PolicyEngine(r.config);
}

function v4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

/** Expands `::` and writes 16 bytes. */
function v6(text: string): Uint8Array {
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = parseInt(g, 16) >> 8;
    out[2 * i + 1] = parseInt(g, 16) & 0xff;
  });
  return out;
}

type Q = Partial<Omit<PolicyQuery, 'source' | 'destination'>> & { src?: string; dst?: string };
function query(q: Q): PolicyQuery {
  const family = q.family ?? ((q.src ?? '').includes(':') ? 'inet6' : 'inet');
  const addr = family === 'inet6' ? v6 : v4;
  return {
    fromZone: q.fromZone ?? 'trust',
    toZone: q.toZone ?? 'untrust',
    family,
    protocol: q.protocol ?? 6,
    source: addr(q.src ?? (family === 'inet6' ? '2001:db8::1' : '192.0.2.1')),
    destination: addr(q.dst ?? (family === 'inet6' ? '2001:db8:1::1' : '198.51.100.1')),
    sourcePort: q.sourcePort ?? 40000,
    destinationPort: q.destinationPort ?? 80,
    icmpType: q.icmpType,
    icmpCode: q.icmpCode,
  };
}

/** [policy name, action, application] of a decision. */
function outcome(d: PolicyDecision): [string, string, string | null] {
  return [d.policyName, d.action, d.application];
}

const ZONES = `
set security zones security-zone trust interfaces t0
set security zones security-zone untrust interfaces u0
set security zones security-zone dmz interfaces d0
`;
function rule(from: string, to: string, name: string, src: string, dst: string, app: string, action: string): string {
  const where = from === 'global' ? 'global' : `from-zone ${from} to-zone ${to}`;
  return `set security policies ${where} policy ${name} match source-address ${src} destination-address ${dst} application ${app}\nset security policies ${where} policy ${name} then ${action}\n`;
}

t.test('zone-pair rules in order, then global, then the default policy', async (t) => {
  const e = engine(
    ZONES +
      rule('trust', 'untrust', 'deny-ssh', 'any', 'any', 'junos-ssh', 'deny') +
      rule('trust', 'untrust', 'web', 'any', 'any', '[ junos-http junos-https ]', 'permit') +
      rule('trust', 'untrust', 'web-again', 'any', 'any', 'junos-http', 'reject') +
      rule('global', '', 'global-dns', 'any', 'any', 'junos-dns-udp', 'permit') +
      rule('global', '', 'global-ssh', 'any', 'any', 'junos-ssh', 'permit'),
  );
  t.same(outcome(e.match(query({ destinationPort: 80 }))), ['web', 'permit', 'junos-http'], 'first match wins');
  t.same(outcome(e.match(query({ destinationPort: 443 }))), ['web', 'permit', 'junos-https']);
  t.same(outcome(e.match(query({ destinationPort: 22 }))), ['deny-ssh', 'deny', 'junos-ssh'], 'zone pair before global');
  t.same(outcome(e.match(query({ fromZone: 'untrust', toZone: 'trust', destinationPort: 22 }))), ['global-ssh', 'permit', 'junos-ssh'], 'pairs are directional');
  t.same(outcome(e.match(query({ protocol: 17, destinationPort: 53 }))), ['global-dns', 'permit', 'junos-dns-udp'], 'global fallback');
  t.same(outcome(e.match(query({ fromZone: 'nowhere', toZone: 'else', protocol: 17, destinationPort: 53 }))), ['global-dns', 'permit', 'junos-dns-udp']);
  const d = e.match(query({ destinationPort: 8080 }));
  t.same(d, { policy: null, action: 'deny', policyId: 0, policyName: 'default-policy', application: null, inactivityTimeout: null }, 'default policy');
  const web = e.match(query({ destinationPort: 80 }));
  t.equal(web.policyId, 0x10002);
  t.equal(web.policy?.name, 'web');
  t.equal(e.match(query({ destinationPort: 80 })), web, 'decisions are prebuilt, not allocated per lookup');
  t.equal(e.match(query({ protocol: 17, destinationPort: 53 })).policyId, 0xffff0001);
});

t.test('default policy permit-all', async (t) => {
  const e = engine(`${ZONES}set security policies default-policy permit-all\n`);
  t.same(outcome(e.match(query({}))), ['default-policy', 'permit', null]);
  t.equal(e.match(query({})).policy, null);
});

t.test('inactive rules never match', async (t) => {
  const e = engine(`${ZONES}${rule('trust', 'untrust', 'off', 'any', 'any', 'any', 'permit').replace(/policy off/g, 'inactive: policy off')}${rule('trust', 'untrust', 'on', 'any', 'any', 'any', 'reject')}`);
  t.same(outcome(e.match(query({}))), ['on', 'reject', null]);
  t.equal(e.match(query({})).policyId, 0x10002);
});

t.test('addresses, address sets and prefix edges', async (t) => {
  const e = engine(`${ZONES}
set security address-book global address lan 10.1.2.0/24
set security address-book global address host 10.9.9.9
set security address-book global address high 200.0.0.0/8
set security address-book global address-set inner address host
set security address-book global address-set outer address lan
set security address-book global address-set outer address-set inner
${rule('trust', 'untrust', 'from-outer', 'outer', 'any', 'any', 'permit')}${rule('trust', 'untrust', 'to-high', 'any', 'high', 'any', 'reject')}`);
  const name = (src: string, dst = '198.51.100.1'): string => e.match(query({ src, dst })).policyName;
  t.equal(name('10.1.2.0'), 'from-outer');
  t.equal(name('10.1.2.255'), 'from-outer');
  t.equal(name('10.1.3.0'), 'default-policy');
  t.equal(name('10.1.1.255'), 'default-policy');
  t.equal(name('10.9.9.9'), 'from-outer', 'nested set');
  t.equal(name('10.9.9.8'), 'default-policy');
  t.equal(name('1.1.1.1', '200.255.255.255'), 'to-high', 'addresses with the top bit set');
  t.equal(name('1.1.1.1', '201.0.0.0'), 'default-policy');
});

t.test('IPv6 and families', async (t) => {
  const e = engine(`${ZONES}
set security address-book global address net6 2001:db8:aa::/48
set security address-book global address top ff00::/8
set security address-book global address host6 2001:db8::ffff:ffff
${rule('trust', 'untrust', 'v4-only', 'any-ipv4', 'any', 'any', 'deny')}${rule('trust', 'untrust', 'to-net6', 'any', 'net6', 'any', 'permit')}${rule('trust', 'untrust', 'to-top', 'any', 'top', 'any', 'reject')}${rule('trust', 'untrust', 'host', 'host6', 'any-ipv6', 'any', 'permit')}`);
  const name = (src: string, dst: string): string => e.match(query({ src, dst })).policyName;
  t.equal(name('192.0.2.1', '198.51.100.1'), 'v4-only');
  t.equal(name('2001:db8::1', '2001:db8:aa::1'), 'to-net6', 'any-ipv4 does not match IPv6');
  t.equal(name('2001:db8::1', '2001:db8:aa:ffff:ffff:ffff:ffff:ffff'), 'to-net6');
  t.equal(name('2001:db8::1', '2001:db8:ab::'), 'default-policy');
  t.equal(name('2001:db8::1', 'ff02::1'), 'to-top', 'top bit set');
  t.equal(name('2001:db8::ffff:ffff', '2001:db8:1::1'), 'host', 'host prefix in the low words');
  t.equal(name('2001:db8::ffff:fffe', '2001:db8:1::1'), 'default-policy');
  t.throws(() => e.match({ ...query({}), source: new Uint8Array(16) }), RangeError, 'address length must fit the family');
});

t.test('applications: sets, ranges, protocols', async (t) => {
  const e = engine(`${ZONES}
set applications application high-tcp protocol tcp destination-port 1024-2048
set applications application from-ntp protocol udp source-port 123 destination-port 123
set applications application gre protocol gre
set applications application-set mixed application high-tcp
set applications application-set mixed application from-ntp
set applications application-set outer application-set mixed
set applications application-set outer application gre
${rule('trust', 'untrust', 'p', 'any', 'any', 'outer', 'permit')}`);
  const app = (q: Q): string | null => e.match(query(q)).application;
  t.equal(app({ destinationPort: 1024 }), 'high-tcp', 'range start');
  t.equal(app({ destinationPort: 2048 }), 'high-tcp', 'range end');
  t.equal(app({ destinationPort: 1023 }), null);
  t.equal(app({ destinationPort: 2049 }), null);
  t.equal(app({ protocol: 17, destinationPort: 1500 }), null, 'protocol must match');
  t.equal(app({ protocol: 17, sourcePort: 123, destinationPort: 123 }), 'from-ntp');
  t.equal(app({ protocol: 17, sourcePort: 124, destinationPort: 123 }), null, 'source port is checked');
  t.equal(app({ protocol: 47, sourcePort: 0, destinationPort: 0 }), 'gre');
  t.equal(e.match(query({ destinationPort: 1500 })).policyId, e.match(query({ protocol: 47 })).policyId, 'one id for every member');
});

t.test('ICMP types and codes', async (t) => {
  const e = engine(`${ZONES}
set applications application unreach-port protocol icmp icmp-type 3 icmp-code 3
set applications application ra6 protocol icmp6 icmp6-type 134
${rule('trust', 'untrust', 'echo', 'any', 'any', 'junos-icmp-ping', 'permit')}${rule('trust', 'untrust', 'unreach', 'any', 'any', 'unreach-port', 'permit')}${rule('trust', 'untrust', 'ra', 'any', 'any', 'ra6', 'permit')}${rule('trust', 'untrust', 'echo6', 'any', 'any', 'junos-icmp6-echo-request', 'permit')}${rule('trust', 'untrust', 'all-icmp', 'any', 'any', 'junos-ping', 'deny')}`);
  const name = (q: Q): string => e.match(query(q)).policyName;
  t.equal(name({ protocol: 1, icmpType: 8, icmpCode: 0 }), 'echo');
  t.equal(name({ protocol: 1, icmpType: 0, icmpCode: 0 }), 'all-icmp', 'echo reply is not junos-icmp-ping but is junos-ping');
  t.equal(name({ protocol: 1 }), 'all-icmp', 'no type given: only type-free applications match');
  t.equal(name({ protocol: 1, icmpType: 3, icmpCode: 3 }), 'unreach');
  t.equal(name({ protocol: 1, icmpType: 3, icmpCode: 1 }), 'all-icmp', 'code is checked');
  t.equal(name({ protocol: 58, src: '2001:db8::1', icmpType: 128 }), 'echo6');
  t.equal(name({ protocol: 58, src: '2001:db8::1', icmpType: 134 }), 'ra');
  t.equal(name({ protocol: 58, src: '2001:db8::1', icmpType: 129 }), 'default-policy', 'junos-ping is ICMP (v4) only');
});

t.test('lookups are cheap', async (t) => {
  const e = engine(
    ZONES + Array.from({ length: 100 }, (_, i) => rule('trust', 'untrust', `r${i}`, 'any', 'any', 'junos-ssh', 'deny')).join('') + rule('trust', 'untrust', 'last', 'any', 'any', 'any', 'permit'),
  );
  const q = query({ destinationPort: 80 });
  const started = process.hrtime.bigint();
  let last: PolicyDecision | null = null;
  for (let i = 0; i < 100_000; i++) last = e.match(q);
  const perLookupNs = Number(process.hrtime.bigint() - started) / 100_000;
  t.equal(last?.policyName, 'last');
  t.ok(perLookupNs < 50_000, `${perLookupNs.toFixed(0)} ns per lookup through 101 rules`);
});

t.test('the engine only reads the compiled config', async (t) => {
  const r = compileText(`${ZONES}${rule('trust', 'untrust', 'p', 'any', 'any', 'any', 'permit')}`, 'x');
  if (!r.ok) throw new Error('compile');
  const cfg: CompiledConfig = r.config;
  const before = JSON.stringify(cfg.policies.map((p) => [p.id, p.name, Array.from(p.match.source.v4)]));
  new PolicyEngine(cfg).match(query({}));
  t.equal(JSON.stringify(cfg.policies.map((p) => [p.id, p.name, Array.from(p.match.source.v4)])), before);
});
