// Static NAT prefix mapping (both directions, IPv4 and IPv6, NAT64) and destination pool addresses.
import t from 'tap';
import { destinationPoolTarget, staticForward, staticReverse } from '../../lib/nat/arithmetic.js';
import { formatAddress } from '../../lib/nat/addr.js';
import type { DestinationPool, StaticRule } from '../../lib/nat/types.js';

const v4 = (s: string): bigint => s.split('.').reduce((a, o) => (a << 8n) | BigInt(o), 0n);
function v6(s: string): bigint {
  const [head, tail = ''] = s.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = s.includes('::') ? [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl] : h;
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function rule(family: 'inet' | 'inet6', match: bigint, to: bigint, length: number): StaticRule {
  const any = { source: null, destination: null, sourcePorts: null, destinationPorts: null, protocols: null, applications: null };
  return {
    id: 1, name: 'r', ruleSet: 's', match: any,
    destinationPrefix: { family, network: match, length },
    action: { kind: 'prefix', prefix: { family, network: to, length }, routingInstance: null },
  };
}

t.test('IPv4 prefix to prefix, one to one both ways', async (t) => {
  const r = rule('inet', v4('203.0.113.16'), v4('10.2.0.16'), 28);
  for (let h = 0; h < 16; h++) {
    const outside = v4('203.0.113.16') + BigInt(h);
    const inside = staticForward(r, 'inet', outside);
    t.equal(inside, v4('10.2.0.16') + BigInt(h), `${formatAddress('inet', outside)} -> ${inside === null ? 'none' : formatAddress('inet', inside)}`);
    t.equal(staticReverse(r, 'inet', inside!), outside, 'and back');
  }
  t.equal(staticForward(r, 'inet', v4('203.0.113.32')), null, 'outside the prefix');
  t.equal(staticForward(r, 'inet6', v4('203.0.113.17')), null, 'another family');
  t.equal(staticReverse(r, 'inet', v4('10.2.0.15')), null, 'a host outside the translated prefix');
});

t.test('IPv6 (NAT66) prefix to prefix keeps the interface identifier', async (t) => {
  const r = rule('inet6', v6('2001:db8:1::'), v6('fd00:aa::'), 64);
  const outside = v6('2001:db8:1::dead:beef');
  const inside = staticForward(r, 'inet6', outside);
  t.equal(inside === null ? null : formatAddress('inet6', inside), 'fd00:aa::dead:beef');
  t.equal(staticReverse(r, 'inet6', inside!), outside);
  t.equal(staticForward(r, 'inet6', v6('2001:db8:2::1')), null);
});

t.test('NAT64 (static-nat inet): the IPv4 address in the last 32 bits of a /96', async (t) => {
  const r: StaticRule = { ...rule('inet6', v6('64:ff9b::'), 0n, 96), action: { kind: 'inet', routingInstance: null } };
  t.equal(staticForward(r, 'inet6', v6('64:ff9b::c633:6407')), v4('198.51.100.7'));
  t.equal(staticReverse(r, 'inet', v4('198.51.100.7')), null, 'not a reverse mapping');
});

t.test('destination pools: one address, or a range at the offset of the matched prefix', async (t) => {
  const single: DestinationPool = { id: 1, name: 'one', range: { family: 'inet', first: v4('10.0.0.5'), last: v4('10.0.0.5') }, port: 8080, routingInstance: null };
  t.equal(destinationPoolTarget(single, null, v4('203.0.113.9')), v4('10.0.0.5'));
  const range: DestinationPool = { ...single, range: { family: 'inet', first: v4('10.0.0.10'), last: v4('10.0.0.13') } };
  const matched = [{ family: 'inet' as const, first: v4('203.0.113.0'), last: v4('203.0.113.7') }];
  t.same([0, 1, 3, 4, 6].map((h) => formatAddress('inet', destinationPoolTarget(range, matched, v4('203.0.113.0') + BigInt(h)))), ['10.0.0.10', '10.0.0.11', '10.0.0.13', '10.0.0.10', '10.0.0.12'], 'offset, wrapping around a smaller pool');
});

t.test('address text', async (t) => {
  t.equal(formatAddress('inet6', v6('2001:db8::1')), '2001:db8::1');
  t.equal(formatAddress('inet6', 0n), '::');
  t.equal(formatAddress('inet6', v6('1:0:0:2:0:0:0:3')), '1:0:0:2::3', 'the longest zero run');
  t.equal(formatAddress('inet6', v6('1:2:3:4:5:6:7:8')), '1:2:3:4:5:6:7:8');
});
