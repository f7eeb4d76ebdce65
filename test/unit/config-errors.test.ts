import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compileText, loadConfigFile } from '../../lib/config/compile.js';

function errors(text: string): string[] {
  const r = compileText(text, 'e.conf');
  return r.ok ? [] : r.errors.map(String);
}

/** Zones a and b, so policy snippets only add what they test. */
const ZONES = 'set security zones security-zone a\nset security zones security-zone b\n';
/** A complete policy from a to b with the given match/then lines (line numbers start at 3). */
function policy(...lines: string[]): string {
  return ZONES + lines.map((l) => `set security policies from-zone a to-zone b policy p ${l}`).join('\n');
}
const ANY = 'match source-address any destination-address any application any';

t.test('schema errors name what was expected', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    ['unknown top-level statement', 'foo bar;', ["e.conf:1:1: unknown statement 'foo'; expected one of: applications, firewall, groups, high-availability, interfaces, policy-options, routing-instances, security, system, version"]],
    [
      'unknown nested statement',
      'set security zones security-zone z host-inbound-trafic system-services ping',
      ["e.conf:1:36: unknown statement 'host-inbound-trafic' in 'security zones security-zone z'; expected one of: address-book, description, host-inbound-traffic, interfaces, screen"],
    ],
    [
      'unknown then action',
      'security { policies { global { policy p { then { permitt; } } } } }',
      [
        "e.conf:1:32: policy 'p' needs 'match source-address'",
        "e.conf:1:32: policy 'p' needs 'match destination-address'",
        "e.conf:1:32: policy 'p' needs 'match application'",
        "e.conf:1:32: policy 'p' needs an action: then permit, deny or reject",
        "e.conf:1:50: unknown statement 'permitt' in 'security policies global policy p then'; expected one of: count, deny, log, permit, reject",
      ],
    ],
    [
      'per-interface host-inbound-traffic',
      'set security zones security-zone z interfaces eth0 host-inbound-traffic system-services pingg',
      ["e.conf:1:89: unknown statement 'pingg' in 'security zones security-zone z interfaces eth0 host-inbound-traffic system-services'; expected one of: all, any-service, bootp, dhcp, dhcpv6, dns, finger, ftp, http, https, ident-reset, ike, netconf, ntp, ping, rlogin, rsh, snmp, snmp-trap, ssh, telnet, tftp, traceroute..."],
    ],
    ['missing name', 'set security zones security-zone', ["e.conf:1:20: 'security-zone' must be followed by a zone name"]],
    ['wrong literal', 'set security policies from-zone a too-zone b', ["e.conf:1:35: expected 'to-zone' after 'from-zone a', found 'too-zone'"]],
    ['missing second zone', 'set security policies from-zone a to-zone', ["e.conf:1:35: 'from-zone a to-zone' must be followed by a zone name"]],
    ['bad family', 'set interfaces eth0 unit 0 family inet4', ["e.conf:1:35: invalid address family 'inet4' in 'interfaces eth0 unit 0'; expected one of: inet, inet6, ethernet-switching, iso, mpls, bridge, ccc, vpls, tcc, any, pppoe, evpn"]],
    [
      'missing value',
      'set applications application x protocol',
      ["e.conf:1:18: application 'x' needs a protocol", "e.conf:1:32: 'protocol' must be followed by a protocol"],
    ],
    [
      'missing list value',
      'set security policies global policy p then permit\nset security policies global policy p match application',
      ["e.conf:1:30: policy 'p' needs 'match source-address'", "e.conf:1:30: policy 'p' needs 'match destination-address'", "e.conf:1:30: policy 'p' needs 'match application'", "e.conf:2:45: 'application' must be followed by an application name or a list [ ... ]"],
    ],
    ['leaf with a block', 'applications { application x { protocol tcp { x; } } }', ["e.conf:1:32: 'protocol' does not take a block"]],
    [
      'conflicting values',
      'set applications application x protocol tcp\nset applications application x protocol udp',
      ["e.conf:2:32: 'protocol udp' conflicts with 'protocol tcp' at line 1, column 32"],
    ],
    [
      'conflicting flag values',
      'set security zones security-zone z host-inbound-traffic system-services all\nset security zones security-zone z host-inbound-traffic system-services ssh\nset security zones security-zone z host-inbound-traffic system-services ssh except',
      ["e.conf:3:73: 'ssh except' conflicts with 'ssh' at line 2, column 73"],
    ],
    [
      'duplicate zone block',
      'security {\n    zones {\n        security-zone a { interfaces { eth0; } }\n        security-zone a { interfaces { eth1; } }\n    }\n}',
      ["e.conf:4:9: duplicate security-zone 'a' (first defined at line 3, column 9)"],
    ],
    [
      'duplicate policy block',
      `${ZONES}security { policies { from-zone a to-zone b {\n policy p { match { source-address any; destination-address any; application any; } then permit; }\n policy p { then deny; }\n} } }`,
      ["e.conf:5:2: duplicate policy 'p' (first defined at line 4, column 2)"],
    ],
    [
      'duplicate application block',
      'applications {\n application x { protocol tcp; }\n application x { protocol tcp; }\n}',
      ["e.conf:3:2: duplicate application 'x' (first defined at line 2, column 2)"],
    ],
    [
      'duplicate address',
      'set security address-book global address x 10.0.0.1\nset security address-book global address x 10.0.0.2',
      ["e.conf:2:34: duplicate address 'x' (first defined at line 1, column 34)"],
    ],
    ['duplicate interface block', 'interfaces { eth0 { unit 0; } eth0 { unit 0; } }', ["e.conf:1:31: duplicate interface 'eth0' (first defined at line 1, column 14)"]],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
  t.match(errors('set security zones security-zone z host-inbound-traffic system-services pingg')[0], /^e\.conf:1:73: unknown statement 'pingg' in '[^']+'; expected one of: all, any-service, bootp, dhcp, .*ping/);
});

t.test('zones and interfaces', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    [
      'bad zone name',
      'set security zones security-zone "a b"',
      ["e.conf:1:34: invalid zone name 'a b': use 1-63 printable characters without spaces, quotes, '#', ';', '[', ']', '{' or '}'"],
    ],
    ['long zone name', `set security zones security-zone ${'z'.repeat(64)}`, [`e.conf:1:34: invalid zone name '${'z'.repeat(64)}': use 1-63 printable characters without spaces, quotes, '#', ';', '[', ']', '{' or '}'`]],
    [
      'Junos interface name',
      'set security zones security-zone z interfaces ge-0/0/0.0\nset security zones security-zone z interfaces ge-0/0/0/0',
      [
        "e.conf:1:47: interface 'ge-0/0/0.0' is not mapped to a Linux interface: map it with --interface-map FILE (a line 'ge-0/0/0 <linux-interface>')",
        "e.conf:2:47: 'ge-0/0/0/0' is not an interface name: a Linux one (1-15 letters, digits, '-', '_' or '.') or a Junos one (ge-0/0/0.0, ae0.10, irb.100, ...)",
      ],
    ],
    [
      'interface in two zones',
      'set security zones security-zone a interfaces eth0\nset security zones security-zone b interfaces eth0',
      ["e.conf:2:47: interface 'eth0' is already in zone 'a' (line 1, column 47); an interface belongs to one zone"],
    ],
    ['bad unit', 'set interfaces eth0 unit x', ["e.conf:1:26: invalid unit number 'x': expected a number from 0 to 2147483647"]],
    ['bad interface name', 'set interfaces eth0/1 unit 0', ["e.conf:1:16: 'eth0/1' is not an interface name: a Linux one (1-15 letters, digits, '-', '_' or '.') or a Junos one (ge-0/0/0.0, ae0.10, irb.100, ...)"]],
    ['except without all', 'set security zones security-zone z host-inbound-traffic system-services ssh except', ["e.conf:1:73: 'ssh except' only makes sense together with 'all'"]],
    ['all except', 'set security zones security-zone z host-inbound-traffic protocols all except', ["e.conf:1:67: 'all except' excludes everything; remove the statement instead"]],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
});

t.test('address book', async (t) => {
  const book = 'set security address-book global ';
  const cases: Array<[string, string, string[]]> = [
    ['not a prefix', `${book}address x 300.1.1.1`, ["e.conf:1:44: '300.1.1.1' is not an IPv4 or IPv6 prefix"]],
    ['bad IPv6', `${book}address x 2001:db8:::1`, ["e.conf:1:44: '2001:db8:::1' is not an IPv4 or IPv6 prefix"]],
    ['leading zero', `${book}address x 10.0.0.01`, ["e.conf:1:44: '10.0.0.01' is not an IPv4 or IPv6 prefix"]],
    ['IPv4 length', `${book}address x 10.0.0.0/33`, ["e.conf:1:44: invalid prefix length in '10.0.0.0/33': must be 0-32 for IPv4"]],
    ['IPv6 length', `${book}address x ::/129`, ["e.conf:1:44: invalid prefix length in '::/129': must be 0-128 for IPv6"]],
    ['host bits', `${book}address x 10.0.0.1/8`, ["e.conf:1:44: '10.0.0.1/8' has address bits set beyond the /8 prefix length"]],
    ['IPv6 host bits', `${book}address x 2001:db8::1/32`, ["e.conf:1:44: '2001:db8::1/32' has address bits set beyond the /32 prefix length"]],
    ['predefined name', `${book}address any 10.0.0.0/8`, ["e.conf:1:42: 'any' is a predefined address and cannot be redefined"]],
    ['bad name', `${book}address "x;y" 10.0.0.0/8`, ["e.conf:1:42: invalid address name 'x;y': use 1-63 printable characters without spaces, quotes, '#', ';', '[', ']', '{' or '}'"]],
    ['address and set share names', `${book}address x 10.0.0.0/8\n${book}address-set x address x`, ["e.conf:2:46: address-set name 'x' is already used at line 1, column 42"]],
    ['named book attached nowhere', 'set security address-book corp address x 10.0.0.0/8', ["e.conf:1:27: address book 'corp' is attached to no zone: add 'attach { zone Z; }'"]],
    ['unknown member', `${book}address-set s address nope`, ["e.conf:1:56: unknown address 'nope' in address-set 's'"]],
    [
      'member of the wrong kind',
      `${book}address-set s address-set t\n${book}address t 10.0.0.0/8`,
      ["e.conf:1:60: 't' in address-set 's' is an address, not an address-set: write 'address t'"],
    ],
    ['empty set', `security { address-book global { address-set s; } }`, ["e.conf:1:46: address-set 's' has no members"]],
    [
      'cycle',
      `${book}address-set s address-set t\n${book}address-set t address-set s`,
      ["e.conf:2:60: address-set 's' contains itself (s -> t -> s)"],
    ],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
});

t.test('applications', async (t) => {
  const app = 'set applications application x ';
  const cases: Array<[string, string, string[]]> = [
    ['no protocol', `${app}destination-port 80`, ["e.conf:1:18: application 'x' needs a protocol"]],
    ['unknown protocol', `${app}protocol tpc`, ["e.conf:1:41: unknown protocol 'tpc': expected icmp, igmp, ipip, tcp, egp, udp, rsvp, gre, esp, ah, icmp6, ospf, pim, vrrp, sctp or a number 0-255"]],
    ['protocol number', `${app}protocol 256`, ["e.conf:1:41: invalid protocol number '256': expected a number from 0 to 255"]],
    ['port without ports', `${app}protocol icmp destination-port 80`, ["e.conf:1:63: 'destination-port' needs protocol tcp, udp or sctp (application 'x' has protocol icmp)"]],
    ['bad port', `${app}protocol tcp destination-port 70000`, ["e.conf:1:62: invalid port '70000': expected a port 0-65535, a range like 1024-65535, or a port name such as http"]],
    ['reversed range', `${app}protocol tcp source-port 90-80`, ["e.conf:1:57: invalid port '90-80': expected a port 0-65535, a range like 1024-65535, or a port name such as http"]],
    ['unknown port name', `${app}protocol tcp destination-port htp`, ["e.conf:1:62: invalid port 'htp': expected a port 0-65535, a range like 1024-65535, or a port name such as http"]],
    ['icmp-type on tcp', `${app}protocol tcp icmp-type 8`, ["e.conf:1:45: 'icmp-type' needs protocol icmp or icmp6 (application 'x' has protocol tcp)"]],
    ['icmp6-type on icmp', `${app}protocol icmp icmp6-type 128`, ["e.conf:1:46: 'icmp6-type' needs protocol icmp6 (application 'x' has protocol icmp)"]],
    ['icmp-type and icmp6-type', `${app}protocol icmp6 icmp-type 128 icmp6-type 128`, ["e.conf:1:61: 'icmp6-type' conflicts with 'icmp-type' at line 1, column 47"]],
    ['code without type', `${app}protocol icmp icmp-code 1`, ["e.conf:1:46: 'icmp-code' needs an ICMP type as well"]],
    ['type out of range', `${app}protocol icmp icmp-type 300`, ["e.conf:1:56: invalid icmp-type '300': expected a number from 0 to 255"]],
    ['redefined predefined', 'set applications application junos-http protocol tcp', ["e.conf:1:30: 'junos-http' is a predefined application and cannot be redefined"]],
    ['any is reserved', 'set applications application-set any application junos-http', ["e.conf:1:34: 'any' is a predefined application and cannot be redefined"]],
    ['application and set share names', `${app}protocol tcp\nset applications application-set x application junos-http`, ["e.conf:2:34: application-set name 'x' is already used at line 1, column 30"]],
    ['unknown member', 'set applications application-set s application nope', ["e.conf:1:48: unknown application 'nope' in application-set 's'"]],
    // Junos accepts `application any` in a set (the set then matches everything).
    ['any as a member', 'set applications application-set s application any', []],
    ['any as a set member', 'set applications application-set s application-set any', ["e.conf:1:52: 'any' in application-set 's' is an application, not an application-set: write 'application any'"]],
    ['empty set', 'set applications application-set s', ["e.conf:1:34: application-set 's' has no members"]],
    [
      'cycle',
      'set applications application-set s application-set t\nset applications application-set t application-set s',
      ["e.conf:2:52: application-set 's' contains itself (s -> t -> s)"],
    ],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
});

t.test('policies', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    ['unknown zones', `set security policies from-zone x to-zone y policy p ${ANY}\nset security policies from-zone x to-zone y policy p then permit`, ["e.conf:1:33: unknown zone 'x'", "e.conf:1:43: unknown zone 'y'"]],
    ['unknown address', policy('match source-address any destination-address nope application any', 'then permit'), ["e.conf:3:99: unknown address or address-set 'nope'"]],
    ['unknown application', policy('match source-address any destination-address any application nope', 'then permit'), ["e.conf:3:115: unknown application or application-set 'nope'"]],
    ['missing match', policy('then permit'), ["e.conf:3:45: policy 'p' needs 'match source-address'", "e.conf:3:45: policy 'p' needs 'match destination-address'", "e.conf:3:45: policy 'p' needs 'match application'"]],
    ['no action', policy(ANY), ["e.conf:3:45: policy 'p' needs an action: then permit, deny or reject"]],
    ['two actions', policy(ANY, 'then permit', 'then deny'), ["e.conf:3:45: policy 'p' has more than one action: permit, deny"]],
    ['bad policy name', `${ZONES}set security policies from-zone a to-zone b policy "p q" ${ANY}\nset security policies from-zone a to-zone b policy "p q" then permit`, ["e.conf:3:52: invalid policy name 'p q': use 1-63 printable characters without spaces, quotes, '#', ';', '[', ']', '{' or '}'"]],
    [
      'address families that never meet',
      `set security address-book global address v4 10.0.0.0/8\nset security address-book global address v6 2001:db8::/32\n${policy('match source-address v4 destination-address v6 application any', 'then permit')}`,
      ["e.conf:5:78: policy 'p' can never match: its source addresses are IPv4 only and its destination addresses IPv6 only"],
    ],
    [
      'application of the other family',
      policy('match source-address any-ipv4 destination-address any application junos-pingv6', 'then permit'),
      ["e.conf:3:108: policy 'p' can never match: its applications are IPv6 only and its addresses IPv4 only"],
    ],
    [
      'conflicting default policies',
      'security { policies { default-policy { deny-all; permit-all; } } }',
      ["e.conf:1:50: 'permit-all' conflicts with 'deny-all' at line 1, column 40"],
    ],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
});

t.test('flow settings', async (t) => {
  t.same(errors('set security flow timeouts tcp 0\nset security flow timeouts udp 1.5\nset security flow max-sessions lots'), [
    "e.conf:1:32: invalid tcp timeout '0': expected a number from 1 to 4294967295",
    "e.conf:2:32: invalid udp timeout '1.5': expected a number from 1 to 4294967295",
    "e.conf:3:32: invalid max-sessions 'lots': expected a number from 1 to 4294967295",
  ]);
});

t.test('all errors are collected, in source order', async (t) => {
  const text = `set security zones security-zone a interfaces eth0
set security zones security-zone b interfaces eth0
set security address-book global address x 10.0.0.1/8
set applications application y protocol tcp destination-port 99999
bogus;
set security policies from-zone a to-zone c policy p match source-address x destination-address z application y
`;
  t.same(
    errors(text).map((e) => e.split(': ')[0]),
    ['e.conf:2:47', 'e.conf:3:44', 'e.conf:4:62', 'e.conf:5:1', 'e.conf:6:43', 'e.conf:6:45', 'e.conf:6:97'],
  );
});

t.test('syntax errors stop before the schema', async (t) => {
  t.same(errors('security { zones { bogus; }\n'), ["e.conf:2:1: missing '}' to close the '{' at line 1, column 10"]);
});

t.test('loadConfigFile', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.conf');
  writeFileSync(good, 'set security zones security-zone a interfaces eth0\n');
  const r = loadConfigFile(good);
  t.ok(r.ok);
  if (r.ok) t.equal(r.config.source, good);
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, '\nset security zones security-zone a interfaces eth0/1\n');
  const b = loadConfigFile(bad);
  t.same(b.ok ? [] : b.errors.map(String), [`${bad}:2:47: 'eth0/1' is not an interface name: a Linux one (1-15 letters, digits, '-', '_' or '.') or a Junos one (ge-0/0/0.0, ae0.10, irb.100, ...)`]);
  const missing = loadConfigFile(join(dir, 'missing.conf'));
  t.equal(missing.ok, false);
  if (!missing.ok) t.match(missing.errors[0].toString(), /missing\.conf:1:1: cannot read configuration: .*missing\.conf: no such file/);
});
