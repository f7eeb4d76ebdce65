// NAT rule lookup: Junos order (static, destination, policy/route, source), rule-set specificity, first rule wins.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { NatRules, type NatSide } from '../../lib/nat/lookup.js';
import type { NatFlow } from '../../lib/nat/match.js';
import type { NatConfig } from '../../lib/nat/types.js';

const v4 = (s: string): bigint => s.split('.').reduce((a, o) => (a << 8n) | BigInt(o), 0n);

function natOf(lines: string[]): NatConfig {
  const text = [
    'set interfaces eth0 unit 0 family inet',
    'set interfaces eth1 unit 0 family inet',
    'set interfaces eth2 unit 0 family inet',
    'set security zones security-zone trust interfaces eth0',
    'set security zones security-zone trust interfaces eth2',
    'set interfaces eth3 unit 0 family inet',
    'set security zones security-zone untrust interfaces eth1',
    'set security zones security-zone untrust interfaces eth3',
    'set routing-instances blue instance-type virtual-router',
    ...lines,
  ].join('\n');
  const r = compileText(text, 'l.conf', { requireInterfaces: false, ignoreUnsupported: true });
  if (!r.ok || !r.nat) throw new Error(r.ok ? 'no NAT' : r.errors.join('\n'));
  return r.nat;
}

const TRUST0: NatSide = { interface: 'eth0', zone: 'trust', routingInstance: 'default' };
const TRUST2: NatSide = { interface: 'eth2', zone: 'trust', routingInstance: 'default' };
const UNTRUST: NatSide = { interface: 'eth1', zone: 'untrust', routingInstance: 'default' };
const UNTRUST3: NatSide = { interface: 'eth3', zone: 'untrust', routingInstance: 'default' };

function tcp(src: string, dst: string, dport = 80, sport = 40000): NatFlow {
  return { family: 'inet', protocol: 6, source: v4(src), destination: v4(dst), sourcePort: sport, destinationPort: dport };
}

t.test('source rule-sets: the most specific context decides, first matching rule within it', async (t) => {
  const rules = new NatRules(natOf([
    'set security nat source pool p address 192.0.2.1',
    'set security nat source rule-set byzone from zone trust',
    'set security nat source rule-set byzone to zone untrust',
    'set security nat source rule-set byzone rule web match destination-port 80',
    'set security nat source rule-set byzone rule web then source-nat pool p',
    'set security nat source rule-set byzone rule all match source-address 0.0.0.0/0',
    'set security nat source rule-set byzone rule all then source-nat interface',
    'set security nat source rule-set byif from interface eth2',
    'set security nat source rule-set byif to zone untrust',
    'set security nat source rule-set byif rule only10 match source-address 10.9.0.0/16',
    'set security nat source rule-set byif rule only10 then source-nat off',
    'set security nat source rule-set toif from routing-instance default',
    'set security nat source rule-set toif to interface eth3',
    'set security nat source rule-set toif rule ssh match destination-port 22',
    'set security nat source rule-set toif rule ssh then source-nat off',
  ]));
  const name = (o: ReturnType<NatRules['outbound']>): string | null => (o?.kind === 'source' ? `${o.rule.ruleSet}/${o.rule.name}/${o.rule.action.kind}` : null);
  t.equal(name(rules.outbound(tcp('10.0.0.1', '198.51.100.1', 80), TRUST0, UNTRUST)), 'byzone/web/pool', 'first matching rule');
  t.equal(name(rules.outbound(tcp('10.0.0.1', '198.51.100.1', 443), TRUST0, UNTRUST)), 'byzone/all/interface', 'the next rule when the first does not match');
  t.equal(name(rules.outbound(tcp('10.9.0.1', '198.51.100.1', 443), TRUST2, UNTRUST)), 'byif/only10/off', 'from interface beats from zone');
  t.equal(rules.outbound(tcp('10.0.0.1', '198.51.100.1', 443), TRUST2, UNTRUST), null, 'the more specific rule-set decides even when none of its rules match');
  t.equal(name(rules.outbound(tcp('10.9.0.1', '198.51.100.1', 22), TRUST2, UNTRUST3)), 'toif/ssh/off', 'to interface beats to zone, whatever the from');
  t.equal(rules.outbound(tcp('10.9.0.1', '198.51.100.1', 80), TRUST2, UNTRUST3), null, 'and decides alone');
  t.equal(rules.outbound(tcp('10.0.0.1', '198.51.100.1', 80), UNTRUST, TRUST0), null, 'no rule-set for the other direction');
});

t.test('Junos order: static, then destination, policy and route on the translated destination, then source', async (t) => {
  const rules = new NatRules(natOf([
    'set security nat source pool p address 192.0.2.1 to 192.0.2.4',
    'set security nat source rule-set out from zone trust',
    'set security nat source rule-set out to zone untrust',
    'set security nat source rule-set out rule r match destination-address 198.51.100.0/24',
    'set security nat source rule-set out rule r then source-nat pool p',
    'set security nat source rule-set in from zone untrust',
    'set security nat source rule-set in to zone trust',
    'set security nat source rule-set in rule toweb match destination-address 10.0.0.5/32',
    'set security nat source rule-set in rule toweb then source-nat interface',
    'set security nat destination pool web address 10.0.0.5 port 8080',
    'set security nat destination rule-set d from zone untrust',
    'set security nat destination rule-set d rule fwd match destination-address 203.0.113.80/32 destination-port 80',
    'set security nat destination rule-set d rule fwd then destination-nat pool web',
    'set security nat destination rule-set d rule st match destination-address 203.0.113.0/24',
    'set security nat destination rule-set d rule st then destination-nat off',
    'set security nat static rule-set s from zone untrust',
    'set security nat static rule-set s rule one match destination-address 203.0.113.16/28',
    'set security nat static rule-set s rule one then static-nat prefix 10.2.0.16/28',
  ]));
  const routed: bigint[] = [];
  const route = (dst: bigint): NatSide => {
    routed.push(dst);
    return dst >> 24n === 10n ? TRUST0 : UNTRUST;
  };
  // Destination NAT, then the source rule-set of the route it took, matching the translated destination.
  const fwd = rules.decide(tcp('198.51.100.7', '203.0.113.80', 80), UNTRUST, route);
  t.equal(fwd.inbound.destination?.rule.name, 'fwd');
  t.same([fwd.inbound.destinationAddress, fwd.inbound.destinationPort], [v4('10.0.0.5'), 8080], 'port forward');
  t.same(routed, [v4('10.0.0.5')], 'the route looked up the translated destination');
  t.equal(fwd.outbound?.kind === 'source' && fwd.outbound.rule.name, 'toweb', 'source rules see the translated destination');
  // Static beats destination NAT for the addresses it covers.
  const st = rules.decide(tcp('198.51.100.7', '203.0.113.21', 443), UNTRUST, route);
  t.equal(st.inbound.static?.name, 'one');
  t.equal(st.inbound.destination, null, 'destination NAT not consulted after static');
  t.equal(st.inbound.destinationAddress, v4('10.2.0.21'), 'host bits kept');
  t.equal(st.outbound?.kind === 'source' ? 'source' : st.outbound, null, 'no source rule toward 10.2.0.21');
  // Outside the static prefix, the destination rule with `off` matches and nothing is translated.
  const off = rules.inbound(tcp('198.51.100.7', '203.0.113.99', 443), UNTRUST);
  t.same([off.static, off.destination?.rule.name, off.destination?.pool, off.destinationAddress], [null, 'st', null, v4('203.0.113.99')]);
  // The reverse of the static rule: a translated host starting a flow out of the rule-set's from zone.
  const rev = rules.decide(tcp('10.2.0.21', '198.51.100.9', 443), TRUST0, route);
  t.same(rev.outbound?.kind === 'static-reverse' ? [rev.outbound.rule.name, rev.outbound.sourceAddress] : rev.outbound, ['one', v4('203.0.113.21')], 'static before source NAT');
  const plain = rules.decide(tcp('10.0.0.3', '198.51.100.9', 443), TRUST0, route);
  t.equal(plain.outbound?.kind === 'source' && plain.outbound.pool?.name, 'p', 'other hosts take the source rule');
  t.same(rules.decide(tcp('10.0.0.3', '198.51.100.9', 443), TRUST0, () => null).outbound, null, 'no route: no source NAT');
});

t.test('match conditions: protocol, ports only for protocols with ports, applications', async (t) => {
  const rules = new NatRules(natOf([
    'set security nat source rule-set out from zone trust',
    'set security nat source rule-set out to zone untrust',
    'set security nat source rule-set out rule udp53 match protocol udp destination-port 53',
    'set security nat source rule-set out rule udp53 then source-nat off',
    'set security nat source rule-set out rule https match application junos-https',
    'set security nat source rule-set out rule https then source-nat off',
    'set security nat source rule-set out rule ports match source-port 1000 to 2000',
    'set security nat source rule-set out rule ports then source-nat interface',
  ]));
  const hit = (f: NatFlow): string | null => {
    const o = rules.outbound(f, TRUST0, UNTRUST);
    return o?.kind === 'source' ? o.rule.name : null;
  };
  t.equal(hit({ ...tcp('10.0.0.1', '8.8.8.8', 53), protocol: 17 }), 'udp53');
  t.equal(hit(tcp('10.0.0.1', '8.8.8.8', 53)), null, 'tcp is not udp');
  t.equal(hit(tcp('10.0.0.1', '8.8.8.8', 443)), 'https', 'application junos-https');
  t.equal(hit(tcp('10.0.0.1', '8.8.8.8', 444, 1500)), 'ports', 'source port range');
  t.equal(hit({ family: 'inet', protocol: 47, source: v4('10.0.0.1'), destination: v4('8.8.8.8'), sourcePort: 0, destinationPort: 0 }), null, 'GRE matches no port condition');
});

t.test('IPv6: static NAT66 both ways; an IPv4 rule never matches an IPv6 flow', async (t) => {
  const rules = new NatRules(natOf([
    'set security nat static rule-set s from zone untrust',
    'set security nat static rule-set s rule six match destination-address 2001:db8:1::/64',
    'set security nat static rule-set s rule six then static-nat prefix fd00:1::/64',
    'set security nat source rule-set out from zone trust',
    'set security nat source rule-set out to zone untrust',
    'set security nat source rule-set out rule v4 match source-address 0.0.0.0/0',
    'set security nat source rule-set out rule v4 then source-nat interface',
  ]));
  const v6 = (hi: bigint, lo: bigint): bigint => (hi << 64n) | lo;
  const flow = (src: bigint, dst: bigint): NatFlow => ({ family: 'inet6', protocol: 6, source: src, destination: dst, sourcePort: 40000, destinationPort: 443 });
  const inbound = rules.inbound(flow(v6(0x20010db800990000n, 7n), v6(0x20010db800010000n, 0xabcdn)), UNTRUST);
  t.equal(inbound.static?.name, 'six');
  t.equal(inbound.destinationAddress, v6(0xfd00000100000000n, 0xabcdn), 'interface identifier kept');
  const out = rules.outbound(flow(v6(0xfd00000100000000n, 0xabcdn), v6(0x20010db800990000n, 7n)), TRUST0, UNTRUST);
  t.same(out?.kind === 'static-reverse' ? out.sourceAddress : out, v6(0x20010db800010000n, 0xabcdn), 'the host appears as its static address');
  t.equal(rules.outbound(flow(v6(0xfd00000200000000n, 1n), v6(0x20010db800990000n, 7n)), TRUST0, UNTRUST), null, 'source-address 0.0.0.0/0 is IPv4 only');
});
