// `system { host-name; syslog { host ...; file-json; rate-limit; } }`, and the
// names events get from a compiled configuration.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { DEFAULT_POLICY_ID, type SyslogSettings } from '../../lib/config/types.js';
import { DEFAULT_EVENT_RATES } from '../../lib/events/rate-limit.js';
import { configNameResolver } from '../../lib/events/resolver.js';
import { eventRates } from '../../lib/events/setup.js';
import type { FlowEvent } from '../../lib/events/types.js';
import { CREATE } from './events-fixture.js';

function syslog(text: string): SyslogSettings {
  const r = compileText(text, 'fw.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.syslog;
}

function errors(text: string): string[] {
  const r = compileText(text, 'fw.conf');
  return r.ok ? [] : r.errors.map(String);
}

t.test('hosts, file and rate limit compile', async (t) => {
  const s = syslog(`
system {
    host-name fw1.example.net;
    syslog {
        host 192.0.2.50 {
            port 5514;
            transport tcp;
            format rfc3164;
        }
        host 2001:db8::50 {
            format brief;
        }
        host 198.51.100.9;
        file-json /var/log/xdpfw/events.json;
        rate-limit 250;
    }
}`);
  t.same(s, {
    hostName: 'fw1.example.net',
    hosts: [
      { address: '192.0.2.50', port: 5514, transport: 'tcp', format: 'rfc3164' },
      { address: '2001:db8::50', port: 514, transport: 'udp', format: 'brief' },
      { address: '198.51.100.9', port: 514, transport: 'udp', format: 'structured' },
    ],
    jsonFile: '/var/log/xdpfw/events.json',
    rateLimit: 250,
  });
  t.same(Object.values(eventRates(s)), [250, 250, 250, 250, 250]);
});

t.test('set statements and defaults', async (t) => {
  t.same(syslog(''), { hostName: null, hosts: [], jsonFile: null, rateLimit: null });
  t.same(eventRates(syslog('')), DEFAULT_EVENT_RATES);
  const s = syslog(
    [
      'set system syslog host 192.0.2.50 transport tcp',
      'set system syslog host 192.0.2.50 port 6514',
      'set system syslog host 192.0.2.51',
    ].join('\n'),
  );
  t.same(s.hosts, [
    { address: '192.0.2.50', port: 6514, transport: 'tcp', format: 'structured' },
    { address: '192.0.2.51', port: 514, transport: 'udp', format: 'structured' },
  ]);
  t.same(syslog('system { syslog { inactive: host 192.0.2.52; host 192.0.2.53; } }').hosts.map((h) => h.address), ['192.0.2.53'], 'inactive hosts are ignored');
});

t.test('bad values are reported where they are written', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['set system syslog host syslog.example.net', ["fw.conf:1:24: invalid syslog host 'syslog.example.net': expected an IPv4 or IPv6 address"]],
    ['set system syslog host 192.0.2.0/24', ["fw.conf:1:24: invalid syslog host '192.0.2.0/24': expected an IPv4 or IPv6 address"]],
    ['set system syslog host 192.0.2.1 port 0', ["fw.conf:1:39: invalid syslog port '0': expected a number from 1 to 65535"]],
    ['set system syslog host 192.0.2.1 port 65536', ["fw.conf:1:39: invalid syslog port '65536': expected a number from 1 to 65535"]],
    ['set system syslog host 192.0.2.1 transport sctp', ["fw.conf:1:44: invalid transport 'sctp': expected one of: udp, tcp"]],
    ['set system syslog host 192.0.2.1 format cef', ["fw.conf:1:41: invalid format 'cef': expected one of: structured, brief, rfc3164"]],
    ['set system syslog file-json events.json', ["fw.conf:1:29: invalid file-json path 'events.json': expected an absolute path"]],
    ['set system syslog rate-limit 0', ["fw.conf:1:30: invalid syslog rate-limit '0': expected a number from 1 to 1000000"]],
    ['set system host-name "fw 1"', ["fw.conf:1:22: invalid host-name 'fw 1': use letters, digits, hyphens, underscores and dots (RFC 1123, and the underscore Junos allows)"]],
    ['set system syslog host 192.0.2.1 port', ["fw.conf:1:34: 'port' must be followed by a port number"]],
    ['set system syslog hots 192.0.2.1', ["fw.conf:1:19: unknown statement 'hots' in 'system syslog'; expected one of: file-json, host, rate-limit"]],
    [
      'system { syslog { host 192.0.2.1 { port 1; } host 192.0.2.1 { port 2; } } }',
      ["fw.conf:1:46: duplicate syslog host '192.0.2.1' (first defined at line 1, column 19)"],
    ],
    [
      'set system syslog host 192.0.2.1 port 1\nset system syslog host 192.0.2.1 port 2',
      ["fw.conf:2:34: 'port 2' conflicts with 'port 1' at line 1, column 34"],
    ],
  ];
  for (const [text, want] of cases) t.same(errors(text), want, text);
});

t.test('names for event ids come from the compiled configuration', async (t) => {
  const r = compileText(
    [
      'set security zones security-zone trust interfaces trust0',
      'set security zones security-zone untrust interfaces untrust0',
      'set security policies from-zone trust to-zone untrust policy web match source-address any destination-address any application junos-http',
      'set security policies from-zone trust to-zone untrust policy web then permit',
      'set security policies global policy rest match source-address any destination-address any application any',
      'set security policies global policy rest then deny',
    ].join('\n'),
    'fw.conf',
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const names = configNameResolver(r.config, new Map([[7, 'trust0']]));
  const web = r.config.policies.find((p) => p.name === 'web')!.id;
  const rest = r.config.policies.find((p) => p.name === 'rest')!.id;
  t.same([names.zone(1), names.zone(2), names.zone(3)], ['trust', 'untrust', null]);
  t.same([names.interface(7), names.interface(8)], ['trust0', null]);
  t.same([names.policy(web), names.policy(rest), names.policy(DEFAULT_POLICY_ID), names.policy(12345)], ['web', 'rest', 'default-policy', null]);
  t.same([names.policySet(web), names.policySet(rest), names.policySet(DEFAULT_POLICY_ID)], [null, 'global', 'global']);
  t.same([names.filter(1), names.term(1, 1)], [null, null], 'filters have no ids yet');
  const flow = (policyId: number, protocol: number, destinationPort: number): FlowEvent => ({ ...CREATE, policyId, protocol, destinationPort });
  t.equal(names.application(flow(web, 6, 80)), 'junos-http', "the policy's own application");
  t.equal(names.application(flow(rest, 6, 443)), 'junos-https', 'application any: the predefined one for the port');
  t.equal(names.application(flow(rest, 17, 9999)), null, 'none: the formats write None');
});
