// security nat: what validates to which typed rules, and each error at its file:line:column.
import t from 'tap';
import { compileText, readConfigTree } from '../../lib/config/compile.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';
import type { NatConfig } from '../../lib/nat/types.js';

const BASE = [
  'set interfaces eth0 unit 0 family inet',
  'set interfaces eth1 unit 0 family inet',
  'set security zones security-zone trust interfaces eth0',
  'set security zones security-zone untrust interfaces eth1',
  'set security address-book global address web 10.0.0.5/32',
  'set security address-book global address inside 10.1.0.0/24',
  'set routing-instances blue instance-type virtual-router',
];
/** NAT lines start at line 8. */
const LINE0 = BASE.length + 1;

function nat(lines: string[]): { nat: NatConfig | null; errors: string[]; warnings: string[] } {
  const text = [...BASE, ...lines].join('\n');
  const strict = compileText(text, 'n.conf', { requireInterfaces: false });
  const ignoring = compileText(text, 'n.conf', { requireInterfaces: false, ignoreUnsupported: true });
  return {
    nat: ignoring.ok ? (ignoring.nat ?? null) : null,
    errors: strict.ok ? [] : strict.errors.map(String),
    warnings: ignoring.warnings.map(String),
  };
}

const REFUSED = 'not supported; it changes what passes or how: remove it, or load without it (--ignore-unsupported)';

const VALID = [
    'set security nat source pool out address 192.0.2.0/28',
    'set security nat source pool out port range 2000 to 3000',
    'set security nat source pool one address 198.51.100.1/32 to 198.51.100.4/32',
    'set security nat source pool one port no-translation',
    'set security nat source pool one overflow-pool out',
    'set security nat source address-persistent',
    'set security nat source rule-set rs from zone trust',
    'set security nat source rule-set rs to zone untrust',
    'set security nat source rule-set rs rule r1 match source-address-name inside destination-port 80 to 90',
    'set security nat source rule-set rs rule r1 then source-nat pool one',
    'set security nat source rule-set rs rule r2 match source-address 10.0.0.0/8 protocol [ tcp udp ]',
    'set security nat source rule-set rs rule r2 then source-nat interface',
    'set security nat destination pool webpool address 10.0.0.5/32 port 8080',
    'set security nat destination rule-set d from interface eth1',
    'set security nat destination rule-set d rule fwd match destination-address 203.0.113.10/32 destination-port 80',
    'set security nat destination rule-set d rule fwd then destination-nat pool webpool',
    'set security nat static rule-set s from zone untrust',
    'set security nat static rule-set s rule one match destination-address 203.0.113.0/28',
    'set security nat static rule-set s rule one then static-nat prefix 10.2.0.0/28',
    'set security nat static rule-set s rule six match destination-address 2001:db8:1::/64',
    'set security nat static rule-set s rule six then static-nat prefix 2001:db8:2::/64 routing-instance blue',
    'set security nat proxy-arp interface eth1 address 203.0.113.0/28',
    'set security nat proxy-ndp interface eth1 address 2001:db8:1::1/128 to 2001:db8:1::9/128',
];

t.test('a valid NAT config compiles to typed rules; destination and static NAT are still refused as not applied', async (t) => {
  const r = nat(VALID);
  // Destination and static NAT are refused where each is first named; source NAT, proxy-arp and proxy-ndp are applied.
  const first = (kind: string): number => LINE0 + VALID.findIndex((l) => l.startsWith(`set security nat ${kind} `));
  const refused = ['destination', 'static'].map((k) => `n.conf:${first(k)}:18: security nat ${k}`);
  t.same(r.errors, refused.map((at) => `${at} ${REFUSED}`), 'refused, only as not applied yet');
  t.same(r.warnings.filter((w) => w.includes('nat')), refused.map((at) => `${at} not supported`), 'ignored, listed as not applied');
  const n = r.nat;
  if (!n) {
    t.fail('NAT compiles');
    return;
  }
  t.same(n.source.pools.map((p) => [p.name, p.ranges.map((x) => [x.first, x.last]), p.ports, p.overflow, p.addressPersistent]), [
    ['out', [[0xc0000200n, 0xc000020fn]], { low: 2000, high: 3000 }, null, true],
    ['one', [[0xc6336401n, 0xc6336404n]], null, { kind: 'pool', pool: 'out' }, true],
  ]);
  const rs = n.source.ruleSets[0];
  t.same([rs.name, rs.from, rs.to], ['rs', { kind: 'zone', names: ['trust'] }, { kind: 'zone', names: ['untrust'] }]);
  t.same(rs.rules.map((r) => [r.id, r.name, r.action]), [[1, 'r1', { kind: 'pool', pool: 'one' }], [2, 'r2', { kind: 'interface' }]]);
  t.same(rs.rules[0].match.source, [{ family: 'inet', first: 0x0a010000n, last: 0x0a0100ffn }], 'an address-book name');
  t.same(rs.rules[0].match.destinationPorts, [{ low: 80, high: 90 }]);
  t.same(rs.rules[1].match.protocols, [6, 17]);
  t.same(n.destination.pools, [{ id: 1, name: 'webpool', range: { family: 'inet', first: 0x0a000005n, last: 0x0a000005n }, port: 8080, routingInstance: null }]);
  t.same(n.destination.ruleSets[0].from, { kind: 'interface', names: ['eth1'] });
  const st = n.static.ruleSets[0].rules;
  t.same(st.map((r) => [r.name, r.destinationPrefix.length, r.action]), [
    ['one', 28, { kind: 'prefix', prefix: { family: 'inet', network: 0x0a020000n, length: 28 }, routingInstance: null }],
    ['six', 64, { kind: 'prefix', prefix: { family: 'inet6', network: 0x20010db8000200000000000000000000n, length: 64 }, routingInstance: 'blue' }],
  ]);
  t.same(n.proxyArp.map(({ interface: i, ranges }) => ({ interface: i, ranges })), [{ interface: 'eth1', ranges: [{ family: 'inet', first: 0xcb007100n, last: 0xcb00710fn }] }]);
  t.equal(n.proxyNdp[0].ranges[0].last - n.proxyNdp[0].ranges[0].first, 8n);
});

t.test('the hierarchical form means the same', async (t) => {
  const text = `${BASE.join('\n')}
security { nat {
  source {
    pool out { address { 192.0.2.0/28; } port { range 2000 { to 3000; } } }
    rule-set rs { from zone trust; to zone untrust; rule r { match { source-address 10.0.0.0/8; } then { source-nat { pool { out; } } } } }
  }
} }`;
  const r = compileText(text, 'h.conf', { requireInterfaces: false, ignoreUnsupported: true });
  if (!r.ok || !r.nat) {
    t.fail(r.ok ? 'no nat' : r.errors.join('\n'));
    return;
  }
  t.same(r.nat.source.pools[0].ports, { low: 2000, high: 3000 });
  t.same(r.nat.source.ruleSets[0].rules[0].action, { kind: 'pool', pool: 'out' });
});

const DUP = 'security { nat { source { rule-set rs { from zone trust; to zone untrust; rule r { then { source-nat interface; } } rule r { then { source-nat off; } } } } } }';

t.test('each error at its file:line:column', async (t) => {
  const cases: Array<[string, string[], Array<[number, string, string]>]> = [
    ['unknown source pool', ['set security nat source rule-set rs from zone trust', 'set security nat source rule-set rs to zone untrust', 'set security nat source rule-set rs rule r then source-nat pool nope'],
      [[2, 'nope', `unknown source pool 'nope'`]]],
    ['unknown destination pool', ['set security nat destination rule-set d from zone untrust', 'set security nat destination rule-set d rule r match destination-address 203.0.113.1/32', 'set security nat destination rule-set d rule r then destination-nat pool nope'],
      [[2, 'nope', `unknown destination pool 'nope'`]]],
    ['overlapping pools', ['set security nat source pool a address 192.0.2.0/28', 'set security nat source pool b address 192.0.2.8/32 to 192.0.2.20/32'],
      [[1, '192.0.2.8/32', `address '192.0.2.8/32' of source pool 'b' overlaps '192.0.2.0/28' of pool 'a'`]]],
    ['a range upside down', ['set security nat source pool a address 192.0.2.9 to 192.0.2.1'],
      [[0, '192.0.2.1', `'192.0.2.9 to 192.0.2.1': the first address is above the last`]]],
    ['a range of two families', ['set security nat source pool a address 192.0.2.9 to 2001:db8::1'],
      [[0, '192.0.2.9', `'192.0.2.9 to 2001:db8::1' needs two addresses of one family`]]],
    ['translated ports below 1024', ['set security nat source pool a address 192.0.2.1', 'set security nat source pool a port range 80 to 2000'],
      [[1, '|80 to', `invalid port (Junos translates to ports 1024-65535) '80': expected a number from 1024 to 65535`]]],
    ['a port range upside down', ['set security nat source pool a address 192.0.2.1', 'set security nat source pool a port range 3000 to 2000'],
      [[1, '2000', `port range '3000 to 2000': the first port is above the last`]]],
    ['no-translation with a port range', ['set security nat source pool a address 192.0.2.1', 'set security nat source pool a port no-translation', 'set security nat source pool a port range 2000 to 3000'],
      [[2, '|range', `source pool 'a': 'port range' and 'port no-translation' exclude each other`]]],
    ['overflow pool of a pool that overloads ports', ['set security nat source pool a address 192.0.2.1', 'set security nat source pool a overflow-pool interface'],
      [[1, '|interface', `source pool 'a': an overflow pool is only for pools with 'port no-translation' (a pool that translates ports overloads instead)`]]],
    ['overflow pools in a loop', ['set security nat source pool a address 192.0.2.1', 'set security nat source pool a port no-translation', 'set security nat source pool a overflow-pool b',
      'set security nat source pool b address 192.0.2.2', 'set security nat source pool b port no-translation', 'set security nat source pool b overflow-pool a'],
      [[2, 'overflow-pool |b', `overflow pools of 'a' lead back to it`], [5, 'overflow-pool |a', `overflow pools of 'b' lead back to it`]]],
    ['a pool without addresses', ['set security nat source pool a port no-translation'], [[0, 'pool |a', `source pool 'a' has no address`]]],
    ['unknown zone', ['set security nat source rule-set rs from zone nowhere', 'set security nat source rule-set rs to zone untrust', 'set security nat source rule-set rs rule r then source-nat interface'],
      [[0, 'nowhere', `unknown zone 'nowhere'`]]],
    ['unknown routing instance', ['set security nat destination rule-set d from routing-instance red', 'set security nat destination rule-set d rule r match destination-address 203.0.113.1/32', 'set security nat destination rule-set d rule r then destination-nat off'],
      [[0, 'red', `unknown routing instance 'red'`]]],
    ['a source rule-set without to', ['set security nat source rule-set rs from zone trust', 'set security nat source rule-set rs rule r then source-nat interface'],
      [[0, 'rule-set |rs', `rule-set 'rs' needs 'to zone|interface|routing-instance'`]]],
    ['from two kinds of context', ['set security nat source rule-set rs from zone trust', 'set security nat source rule-set rs from interface eth0', 'set security nat source rule-set rs to zone untrust', 'set security nat source rule-set rs rule r then source-nat interface'],
      [[1, 'from |interface', `rule-set 'rs': 'from' takes one of zone, interface or routing-instance, not zone and interface`]]],
    ['a destination rule-set with to', ['set security nat destination rule-set d from zone untrust', 'set security nat destination rule-set d to zone trust', 'set security nat destination rule-set d rule r match destination-address 203.0.113.1/32', 'set security nat destination rule-set d rule r then destination-nat off'],
      [[1, 'd |to', `rule-set 'd': only source NAT rule-sets have 'to'; destination and static NAT apply before the route is known`]]],
    ['two rule-sets for one context', ['set security nat source rule-set a from zone trust', 'set security nat source rule-set a to zone untrust', 'set security nat source rule-set a rule r then source-nat interface',
      'set security nat source rule-set b from zone trust', 'set security nat source rule-set b to zone untrust', 'set security nat source rule-set b rule r then source-nat off'],
      [[3, 'rule-set |b', `rule-sets 'a' and 'b' both apply from zone trust to zone untrust: one rule-set per context`]]],
    ['a rule without then', ['set security nat source rule-set rs from zone trust', 'set security nat source rule-set rs to zone untrust', 'set security nat source rule-set rs rule r match source-address 10.0.0.0/8'],
      [[2, 'rule |r', `rule 'r' has no 'then source-nat'`]]],
    ['a destination rule without destination', ['set security nat destination rule-set d from zone untrust', 'set security nat destination rule-set d rule r match destination-port 80', 'set security nat destination rule-set d rule r then destination-nat off'],
      [[1, 'rule |r', `destination NAT rule 'r' needs 'match destination-address' or 'destination-address-name'`]]],
    ['unknown address name', ['set security nat source rule-set rs from zone trust', 'set security nat source rule-set rs to zone untrust', 'set security nat source rule-set rs rule r match source-address-name nope', 'set security nat source rule-set rs rule r then source-nat interface'],
      [[2, 'nope', `unknown address or address-set 'nope'`]]],
    ['static prefixes of two lengths', ['set security nat static rule-set s from zone untrust', 'set security nat static rule-set s rule r match destination-address 203.0.113.0/24', 'set security nat static rule-set s rule r then static-nat prefix 10.2.0.0/16'],
      [[1, '203.0.113.0/24', `static rule 'r' maps '203.0.113.0/24' one to one onto '10.2.0.0/16': both must be of one family and prefix length`]]],
    ['a pool too large to allocate from', ['set security nat source pool big address 10.0.0.0/8'],
      [[0, 'pool |big', `source pool 'big' has 16777216 addresses; xdpfw allocates from at most 1048576 (a /12 of IPv4)`]]],
    ['two static rules for one address from one context', ['set security nat static rule-set s from zone untrust',
      'set security nat static rule-set s rule a match destination-address 203.0.113.0/28', 'set security nat static rule-set s rule a then static-nat prefix 10.2.0.0/28',
      'set security nat static rule-set s rule b match destination-address 203.0.113.8/29', 'set security nat static rule-set s rule b then static-nat prefix 10.3.0.0/29'],
      [[3, 'rule |b', `static rule 'b' matches addresses of static rule 'a' (rule-set 's') from the same context`]]],
  ];
  for (const [what, lines, want] of cases) {
    const r = nat(lines);
    // The column of the word an error points at: where '|' is in the needle (or its start).
    const expected = want.map(([k, needle, message]) => {
      const bar = Math.max(needle.indexOf('|'), 0);
      const at = lines[k].indexOf(needle.replace('|', ''));
      t.ok(at >= 0, `${what}: '${needle}' is on line ${k}`);
      return `n.conf:${LINE0 + k}:${at + bar + 1}: ${message}`;
    });
    t.same(r.errors.filter((e) => !e.endsWith(REFUSED)), expected, what);
    // Source NAT is applied; destination and static NAT are still refused as not applied.
    if (lines.some((l) => / nat (destination|static) /.test(l))) t.ok(r.errors.some((e) => e.endsWith(REFUSED)), `${what}: still refused as not applied`);
    const notApplied = r.warnings.filter((w) => w.endsWith('(security nat is not applied)'));
    t.same(notApplied, expected.map((e) => `${e} (security nat is not applied)`), `${what}: a warning when NAT is left out`);
  }
});

t.test('a rule defined twice is an error of the language, NAT left out or not', async (t) => {
  const r = nat([DUP]);
  const second = DUP.lastIndexOf('rule r') + 1;
  const message = `n.conf:${LINE0}:${second}: duplicate rule 'r' (first defined at line ${LINE0}, column ${DUP.indexOf('rule r') + 1})`;
  t.same(r.errors, [message]);
  const ignoring = compileText([...BASE, DUP].join('\n'), 'n.conf', { requireInterfaces: false, ignoreUnsupported: true });
  t.same(ignoring.ok ? [] : ignoring.errors.map(String), [message]);
});

t.test('deactivated pools and rules keep their ids to the others and take no part', async (t) => {
  const r = nat([
    'set security nat source pool a address 192.0.2.1',
    'set security nat source pool b address 192.0.2.1',
    'deactivate security nat source pool a',
    'set security nat source rule-set rs from zone trust',
    'set security nat source rule-set rs to zone untrust',
    'set security nat source rule-set rs rule r1 then source-nat pool a',
    'set security nat source rule-set rs rule r2 then source-nat pool b',
    'deactivate security nat source rule-set rs rule r1',
  ]);
  t.same(r.errors.filter((e) => !e.endsWith(REFUSED)), [], 'the inactive pool neither overlaps nor is missing for the inactive rule');
  t.same(r.nat?.source.pools.map((p) => [p.id, p.name]), [[2, 'b']]);
  t.same(r.nat?.source.ruleSets[0].rules.map((x) => [x.id, x.name]), [[2, 'r2']]);
});

t.test('printed in either form, the NAT statements read back to the same rules', async (t) => {
  const text = [...BASE, ...VALID].join('\n');
  const tree = readConfigTree(text, 'n.conf');
  t.same(tree.errors.map(String), []);
  // Positions differ between the forms; what they mean may not.
  const json = (x: unknown): string => JSON.stringify(x, (k, v: unknown) => (k === 'pos' ? undefined : typeof v === 'bigint' ? v.toString() : v));
  const original = compileText(text, 'n.conf', { requireInterfaces: false, ignoreUnsupported: true });
  for (const [form, print] of [['set', printSet], ['hierarchical', printHierarchical]] as const) {
    const again = compileText(print(tree.tree), `n.${form}`, { requireInterfaces: false, ignoreUnsupported: true });
    t.ok(again.ok && again.nat, `${form} form compiles`);
    t.equal(json(again.ok ? again.nat : null), json(original.ok ? original.nat : undefined), `${form} form: the same NAT`);
  }
});

t.test('proxy-arp and proxy-ndp are applied: on zone interfaces, their errors errors even when NAT is left out', async (t) => {
  const ok = compileText([...BASE,
    'set security nat proxy-arp interface eth1 address 203.0.113.10/32 to 203.0.113.12/32',
    'set security nat proxy-ndp interface eth1.0 address 2001:db8::10/128',
  ].join('\n'), 'n.conf', { requireInterfaces: false });
  if (!ok.ok) {
    t.fail(ok.errors.join('\n'));
    return;
  }
  t.same(ok.config.neighborProxies, [
    { device: 'eth1', family: 'inet', first: 0xcb00710an, last: 0xcb00710cn },
    { device: 'eth1', family: 'inet6', first: 0x20010db8000000000000000000000010n, last: 0x20010db8000000000000000000000010n },
  ], 'loads without refusal; unit 0 is the interface itself');
  const cases: Array<[string, string, string, string]> = [
    ['an IPv6 address for proxy-arp', 'set security nat proxy-arp interface eth1 address 2001:db8::1', '2001:db8::1',
      "'2001:db8::1': proxy-arp answers for IPv4 addresses only"],
    ['an interface in no zone', 'set security nat proxy-arp interface eth7 address 203.0.113.10/32', 'eth7',
      "proxy-arp interface 'eth7' is not in a security zone: xdpfw answers only on zone interfaces"],
    ['more addresses than XDP holds', 'set security nat proxy-ndp interface eth1 address 2001:db8::/64', 'eth1',
      'proxy-ndp: more than 65536 addresses are proxied in all'],
  ];
  for (const [what, line, needle, message] of cases) {
    const want = [`n.conf:${LINE0}:${line.indexOf(needle) + 1}: ${message}`];
    for (const ignoreUnsupported of [false, true]) {
      const r = compileText([...BASE, line].join('\n'), 'n.conf', { requireInterfaces: false, ignoreUnsupported });
      t.same(r.ok ? [] : r.errors.map(String), want, `${what}${ignoreUnsupported ? ', NAT left out' : ''}`);
    }
  }
});
