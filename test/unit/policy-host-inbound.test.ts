import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { Zone } from '../../lib/config/types.js';
import { hostInboundAllows } from '../../lib/policy/host-inbound.js';

function zone(statements: string): Zone {
  const text = `set security zones security-zone z interfaces eth0\n${statements
    .split('\n')
    .filter(Boolean)
    .map((s) => `set security zones security-zone z host-inbound-traffic ${s}`)
    .join('\n')}`;
  const r = compileText(text, 'h.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.zones[0];
}

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;

t.test('nothing is admitted by default', async (t) => {
  const z = zone('');
  t.notOk(hostInboundAllows(z, TCP, 22));
  t.notOk(hostInboundAllows(z, ICMP, 0, 8));
});

t.test('system services', async (t) => {
  const z = zone('system-services ping\nsystem-services ssh\nsystem-services dns\nsystem-services traceroute');
  t.ok(hostInboundAllows(z, ICMP, 0, 8), 'ping: ICMP echo request');
  t.ok(hostInboundAllows(z, ICMPV6, 0, 128), 'ping: ICMPv6 echo request');
  t.notOk(hostInboundAllows(z, ICMP, 0, 0), 'not echo reply');
  t.notOk(hostInboundAllows(z, ICMP, 0), 'ICMP without a type');
  t.notOk(hostInboundAllows(z, ICMP, 0, 128), 'ICMPv6 type numbers are not ICMP ones');
  t.ok(hostInboundAllows(z, TCP, 22));
  t.notOk(hostInboundAllows(z, UDP, 22), 'ssh is TCP');
  t.notOk(hostInboundAllows(z, TCP, 23));
  t.ok(hostInboundAllows(z, UDP, 53) && hostInboundAllows(z, TCP, 53), 'dns is UDP and TCP');
  t.ok(hostInboundAllows(z, UDP, 33434) && hostInboundAllows(z, UDP, 33523));
  t.notOk(hostInboundAllows(z, UDP, 33433) || hostInboundAllows(z, UDP, 33524));
  t.notOk(hostInboundAllows(z, TCP, 80));
});

t.test('all, except', async (t) => {
  const z = zone('system-services all\nsystem-services telnet except\nsystem-services http except');
  for (const [proto, port] of [
    [TCP, 22],
    [TCP, 443],
    [UDP, 123],
    [UDP, 161],
    [TCP, 830],
  ]) {
    t.ok(hostInboundAllows(z, proto, port), `${proto}/${port}`);
  }
  t.ok(hostInboundAllows(z, ICMP, 0, 8));
  t.notOk(hostInboundAllows(z, TCP, 23), 'telnet excepted');
  t.notOk(hostInboundAllows(z, TCP, 80), 'http excepted');
  t.notOk(hostInboundAllows(z, TCP, 179), 'services do not include routing protocols');
});

t.test('protocols', async (t) => {
  const z = zone('protocols bgp\nprotocols ospf');
  t.ok(hostInboundAllows(z, TCP, 179));
  t.ok(hostInboundAllows(z, 89, 0), 'OSPF is IP protocol 89');
  t.notOk(hostInboundAllows(z, TCP, 22));
  const all = zone('protocols all');
  t.ok(hostInboundAllows(all, 112, 0), 'vrrp');
  t.ok(hostInboundAllows(all, UDP, 3784), 'bfd');
  t.ok(hostInboundAllows(all, ICMP, 0, 9), 'router-discovery');
  t.notOk(hostInboundAllows(all, TCP, 22));
});
