// Flow filters (lib/session/filter-spec.ts): each kind selects what it names,
// they combine with AND, bad values are refused with the flag named.
import t from 'tap';
import { ipBytes } from '../helpers/packets.js';
import { type FlowFacts, type FlowFilterSpec, compileFlowFilter, flowFilterArgs, flowFilterFromArgs } from '../../lib/session/filter-spec.js';

function flow(over: Partial<Omit<FlowFacts, 'addresses'>> & { src?: string; dst?: string } = {}): FlowFacts {
  const { src, dst, ...rest } = over;
  const family = rest.family ?? ((src ?? '').includes(':') ? 'inet6' : 'inet');
  // Addresses at offsets 3 and 19 of one buffer, as in a record that holds more.
  const addresses = new Uint8Array(40);
  addresses.set(ipBytes(src ?? '10.1.0.2'), 3);
  addresses.set(ipBytes(dst ?? '10.2.0.2'), 19);
  return {
    family, protocol: 6, sourcePort: 40000, destinationPort: 80, fromZone: 'trust', toZone: 'untrust', policy: 'allow-out',
    ingressInterface: 'trust0', egressInterface: 'untrust0', ...rest, addresses, sourceOffset: 3, destinationOffset: 19,
  };
}

function matches(spec: FlowFilterSpec, f: FlowFacts): boolean {
  const c = compileFlowFilter(spec);
  if (!c.ok) throw new Error(c.error);
  return c.match(f);
}

t.test('each filter kind selects what it names', async (t) => {
  const v4 = flow();
  const v6 = flow({ src: 'fd00:1::2', dst: 'fd00:2::2' });
  t.ok(matches({}, v4), 'no filter: everything');
  t.ok(matches({ sourcePrefix: '10.1.0.0/16' }, v4));
  t.notOk(matches({ sourcePrefix: '10.3.0.0/16' }, v4));
  t.ok(matches({ sourcePrefix: '10.1.0.2' }, v4), 'a bare address is a host prefix');
  t.notOk(matches({ sourcePrefix: '10.1.0.3' }, v4));
  t.ok(matches({ sourcePrefix: '10.1.0.9/24' }, v4), 'host bits beyond the length are ignored');
  t.notOk(matches({ sourcePrefix: '10.1.0.0/16' }, v6), 'an IPv4 prefix never matches an IPv6 flow');
  t.ok(matches({ destinationPrefix: 'fd00:2::/64' }, v6));
  t.notOk(matches({ destinationPrefix: 'fd00:3::/64' }, v6));
  t.notOk(matches({ destinationPrefix: 'fd00:2::/64' }, v4));
  t.ok(matches({ destinationPrefix: '::/0' }, v6), '::/0 is every IPv6 flow');
  t.ok(matches({ sourcePort: '40000' }, v4));
  t.ok(matches({ sourcePort: '39999-40001' }, v4));
  t.notOk(matches({ sourcePort: '40001-50000' }, v4));
  t.ok(matches({ destinationPort: '80' }, v4));
  t.notOk(matches({ destinationPort: '443' }, v4));
  t.ok(matches({ protocol: 'tcp' }, v4));
  t.ok(matches({ protocol: '6' }, v4));
  t.notOk(matches({ protocol: 'udp' }, v4));
  t.ok(matches({ protocol: 'icmp6' }, flow({ protocol: 58 })));
  t.ok(matches({ fromZone: 'trust' }, v4));
  t.notOk(matches({ fromZone: 'untrust' }, v4));
  t.ok(matches({ toZone: 'untrust' }, v4));
  t.ok(matches({ policy: 'allow-out' }, v4));
  t.notOk(matches({ policy: 'allow' }, v4), 'policy names match whole');
  t.ok(matches({ interface: 'untrust0' }, v4), 'either interface of the flow');
  t.notOk(matches({ interface: 'alt0' }, v4));
  t.ok(matches({ family: 'inet6' }, v6));
  t.notOk(matches({ family: 'inet6' }, v4));
});

t.test('filters combine with AND', async (t) => {
  const f = flow();
  t.ok(matches({ sourcePrefix: '10.1.0.0/24', protocol: 'tcp', destinationPort: '80', fromZone: 'trust' }, f));
  t.notOk(matches({ sourcePrefix: '10.1.0.0/24', protocol: 'tcp', destinationPort: '81', fromZone: 'trust' }, f));
  t.notOk(matches({ sourcePrefix: '10.1.0.0/24', protocol: 'udp' }, f));
});

t.test('bad values are refused, naming the flag', async (t) => {
  const err = (spec: FlowFilterSpec): string => {
    const c = compileFlowFilter(spec);
    return c.ok ? 'accepted' : c.error;
  };
  t.match(err({ sourcePrefix: '10.1.0.0/33' }), /^source-prefix: invalid prefix length/);
  t.match(err({ destinationPrefix: 'nonsense' }), /^destination-prefix: /);
  t.match(err({ sourcePort: '70000' }), /^source-port: '70000' is not a port/);
  t.match(err({ destinationPort: '90-80' }), /^destination-port: /);
  t.match(err({ protocol: 'tcpp' }), /^protocol: 'tcpp' is not a protocol name/);
  t.match(err({ sourcePrefix: '10.0.0.0/8', family: 'inet6' }), /both IPv4 and IPv6/);
});

t.test('CLI flags to the wire form and back', async (t) => {
  const spec = flowFilterFromArgs({ 'source-prefix': '10.1.0.0/16', 'destination-port': 80, 'from-zone': 'trust', 'family': 'inet', json: true, _: [] });
  t.same(spec, { sourcePrefix: '10.1.0.0/16', destinationPort: '80', fromZone: 'trust', family: 'inet' });
  t.same(flowFilterArgs(spec), ['--source-prefix', '10.1.0.0/16', '--destination-port', '80', '--from-zone', 'trust', '--family', 'inet']);
  t.same(flowFilterFromArgs({ policy: ['a', 'b'] }), { policy: 'b' }, 'a flag given twice: the last counts');
});
