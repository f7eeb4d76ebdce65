// The Junos language as Junos prints it: each form compiles like the plain statement it means.
import t from 'tap';
import { compileText, readConfigTree, type CompileOptions, type CompileResult } from '../../lib/config/compile.js';
import { printHierarchical } from '../../lib/config/printer.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { comparable } from '../helpers/compiled-config.js';

function compiled(text: string, options: CompileOptions = {}): CompiledConfig {
  const r = compileText(text, 'j.conf', { requireInterfaces: false, ...options });
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function policiesOf(c: CompiledConfig): unknown {
  return (comparable(c) as { policies: unknown }).policies;
}

function result(text: string, options: CompileOptions = {}): CompileResult {
  return compileText(text, 'j.conf', { requireInterfaces: false, ...options });
}

const ZONES = `
set security zones security-zone trust interfaces eth0
set security zones security-zone untrust interfaces eth1
`;
const POLICY = (src: string, dst: string): string => `
set security policies from-zone trust to-zone untrust policy p match source-address ${src}
set security policies from-zone trust to-zone untrust policy p match destination-address ${dst}
set security policies from-zone trust to-zone untrust policy p match application any
set security policies from-zone trust to-zone untrust policy p then permit
`;

t.test('every display form of an address compiles alike', async (t) => {
  const plain = compiled(`${ZONES}set security address-book global address web 10.81.2.2/32\n${POLICY('web', 'any')}`);
  const forms = [
    `security { address-book { global { address web 10.81.2.2/32; } } }`,
    `security { address-book global { address web { description "the web"; 10.81.2.2/32; } } }`,
    `set security address-book global address web description "the web"\nset security address-book global address web 10.81.2.2/32`,
  ];
  for (const f of forms) t.same(comparable(compiled(`${ZONES}${f}\n${POLICY('web', 'any')}`)), comparable(plain), f);
  t.match(printHierarchical(readConfigTree(forms[0], 'p.conf').tree), /^ {12}address web 10\.81\.2\.2\/32;$/m, 'printed as Junos prints it');
  t.same(
    result('set security address-book global address x 10.0.0.1\nset security address-book global address x 10.0.0.2').ok,
    false,
    'an address with two prefixes is refused',
  );
});

t.test('range-address is the prefixes that cover it', async (t) => {
  const range = compiled(`${ZONES}set security address-book global address r range-address 10.0.0.1 to 10.0.0.6\n${POLICY('r', 'any')}`);
  const prefixes = ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32'];
  const set = compiled(
    `${ZONES}${prefixes.map((p, i) => `set security address-book global address a${i} ${p}\nset security address-book global address-set r address a${i}\n`).join('')}${POLICY('r', 'any')}`,
  );
  t.same(policiesOf(range), policiesOf(set));
  t.notOk(result(`${ZONES}set security address-book global address r range-address 10.0.0.9 to 10.0.0.1`).ok, 'a reversed range is refused');
});

t.test('zone address books: the zone name wins over the global one', async (t) => {
  const scoped = `${ZONES}
set security address-book global address web 10.81.2.2/32
set security zones security-zone trust address-book address web 10.9.9.9/32
${POLICY('web', 'web')}`;
  const expected = compiled(`${ZONES}
set security address-book global address src 10.9.9.9/32
set security address-book global address dst 10.81.2.2/32
${POLICY('src', 'dst')}`);
  const strip = (c: CompiledConfig): unknown => c.policies.map((p) => [[...p.match.source.v4], [...p.match.destination.v4]]);
  t.same(strip(compiled(scoped)), strip(expected), 'source in the from-zone book, destination in the global book');
  const attached = `${ZONES}
set security address-book global address web 10.81.2.2/32
set security address-book trust-book address web 10.9.9.9/32
set security address-book trust-book attach zone trust
${POLICY('web', 'web')}`;
  t.same(strip(compiled(attached)), strip(expected), 'a named book attached to a zone scopes the same way');
  const global = `${ZONES}
set security address-book global address web 10.81.2.2/32
set security zones security-zone trust address-book address web 10.9.9.9/32
set security policies global policy g match source-address web destination-address any application any
set security policies global policy g then permit`;
  const globalExpected = `${ZONES}
set security address-book global address web 10.81.2.2/32
set security policies global policy g match source-address web destination-address any application any
set security policies global policy g then permit`;
  t.same(policiesOf(compiled(global)), policiesOf(compiled(globalExpected)), 'global policies see the global book only');
  t.match(result(`${ZONES}set security zones security-zone untrust address-book address web 10.9.9.9/32\n${POLICY('web', 'any')}`), {
    ok: false,
    errors: [{ message: "unknown address or address-set 'web'" }],
  }, "another zone's book is not in scope");
  t.same(strip(compiled(`${ZONES}${POLICY('any-ipv4', 'any')}`)), strip(compiled(`${ZONES}set security address-book global address v4 0.0.0.0/0\n${POLICY('v4', 'any')}`)), 'any-ipv4');
});

t.test('groups: apply-groups, wildcards, node groups, apply-groups-except', async (t) => {
  const plain = compiled(`${ZONES}
set security zones security-zone trust host-inbound-traffic system-services ping
set security zones security-zone trust host-inbound-traffic system-services ssh
set security zones security-zone untrust host-inbound-traffic system-services ping
set system host-name fw-a`);
  const grouped = `
groups {
    node0 { system { host-name fw-a; } }
    node1 { system { host-name fw-b; } }
    all-zones { security { zones { security-zone <*> { host-inbound-traffic { system-services { ping; } } } } } }
    ge { interfaces { <ge-*> { description "a ge port"; } } }
}
apply-groups [ "\${node}" all-zones nope ];
${ZONES}
set security zones security-zone trust host-inbound-traffic system-services ssh`;
  const r = result(grouped);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(comparable(r.config), comparable(plain), 'inherited as if written');
  t.match(r.warnings.map(String), ["j.conf:8:36: group 'nope' is not defined; nothing is inherited from it"], 'a group named but not defined is a warning');
  t.equal(compiled(grouped, { node: 'node1' }).syslog.hostName, 'fw-b', 'the node flag chooses the node group');
  t.equal(compiled(`${grouped}\nset system host-name mine`).syslog.hostName, 'mine', 'the configuration wins over a group');
  const except = compiled(`${grouped}\nset security zones security-zone untrust apply-groups-except all-zones`);
  t.same([...except.zones[1].hostInbound.services], [], 'apply-groups-except stops an inherited group below it');
  const nested = compiled(`
groups { ssh-only { security { zones { security-zone <*> { host-inbound-traffic { system-services { ssh; } } } } } } }
${ZONES}
set security zones security-zone untrust apply-groups ssh-only`);
  t.same(nested.zones.map((z) => [...z.hostInbound.services]), [[], ['ssh']], 'a group applied at a zone shapes that zone only');
});

t.test('set-form edits, tags, comments and line endings', async (t) => {
  const plain = compiled(`${ZONES}set security zones security-zone lab\n${POLICY('any', 'any')}`);
  const edited = `${ZONES}
set security zones security-zone lab
set security zones security-zone lab interfaces eth9
delete security zones security-zone lab interfaces eth9
${POLICY('any', 'any')}
set security policies from-zone trust to-zone untrust policy p match application [ junos-http any ]
delete security policies from-zone trust to-zone untrust policy p match application junos-http
set security policies from-zone trust to-zone untrust policy q match source-address any destination-address any application any
set security policies from-zone trust to-zone untrust policy q then deny
deactivate security policies from-zone trust to-zone untrust policy q
deactivate security zones security-zone lab
activate security zones security-zone lab`;
  const a = compiled(edited);
  t.same(policiesOf(a), policiesOf(plain), 'deleted and deactivated statements are gone');
  t.same(a.zones.map((z) => z.name), ['trust', 'untrust', 'lab'], 'activate undoes deactivate');
  const tagged = [
    '## Last commit: 2019-09-04 00:07:59 UTC by root',
    'version 17.3R2.10;',
    '/* a note */',
    'security {',
    '    zones {',
    '        replace: security-zone trust { interfaces { eth0; } }',
    '        protect: security-zone untrust { interfaces { eth1; } }',
    '        security-zone lab;',
    '    }',
    '    policies { from-zone trust to-zone untrust { policy p { match { source-address any; destination-address any; application any; } then { permit; } } } }',
    '}',
  ].join('\r\n');
  t.same(comparable(compiled(tagged)), comparable(plain), 'version, ## comments, annotations, replace:/protect: and CRLF');
});

t.test('statements xdpfw does not implement: one line each, refused or ignored', async (t) => {
  const text = `${ZONES}
set system login user admin class super-user
set system login user admin uid 2000
set security nat destination rule-set r from zone untrust
${POLICY('any', 'any')}`;
  const refused = result(text);
  t.same(refused.ok ? [] : refused.errors.map(String), [
    'j.conf:7:18: security nat destination not supported; it changes what passes or how: remove it, or load without it (--ignore-unsupported)',
  ], 'NAT refuses the config, one line for its hierarchy');
  t.same(refused.warnings.map(String), ['j.conf:5:12: system login not supported'], 'login is only a warning');
  const ignored = result(text, { ignoreUnsupported: true });
  t.ok(ignored.ok, '--ignore-unsupported loads without it');
  if (ignored.ok) {
    t.same(ignored.config.warnings, ['j.conf:5:12: system login not supported', 'j.conf:7:18: security nat destination not supported'], 'and status lists both');
    t.same(comparable(ignored.config), comparable(compiled(`${ZONES}${POLICY('any', 'any')}`)), 'what remains is what is enforced');
  }
  const services = result(`${ZONES}${POLICY('any', 'any')}set security policies from-zone trust to-zone untrust policy p then permit application-services idp`);
  t.same(services.ok ? [] : services.errors.map((e) => e.message), [
    'security policies from-zone trust to-zone untrust policy p then permit application-services not supported; it changes what passes or how: remove it, or load without it (--ignore-unsupported)',
  ], 'a permit with application services is refused');
  t.match(result('set security zones security-zone z host-inbound-traffic system-services pingg'), {
    ok: false,
    errors: [{ message: /^unknown statement 'pingg'/ }],
  }, 'a typo stays an unknown statement');
});

t.test('zones as Junos writes them', async (t) => {
  const junos = compiled(`
set security zones security-zone trust interfaces ge-0/0/0.0
set security zones security-zone trust interfaces reth1.100
set security zones security-zone trust host-inbound-traffic system-services any-service
set security zones security-zone trust host-inbound-traffic system-services telnet except
set security zones functional-zone management interfaces fxp0.0
set security zones functional-zone management host-inbound-traffic system-services ssh
set security policies default-policy deny-all`);
  t.same(junos.zones.map((z) => [z.name, z.interfaces]), [['trust', ['ge-0/0/0', 'reth1.100']], ['management', ['fxp0']]]);
  const all = compiled('set security zones security-zone trust host-inbound-traffic system-services all\nset security zones security-zone trust host-inbound-traffic system-services telnet except');
  t.same([...junos.zones[0].hostInbound.services].sort(), [...all.zones[0].hostInbound.services].sort(), 'any-service is all');
  t.same([...junos.zones[1].hostInbound.services], ['ssh']);
});

t.test("an interface's own host-inbound-traffic overrides its zone's", async (t) => {
  const c = compiled(`
set security zones security-zone trust host-inbound-traffic system-services ssh
set security zones security-zone trust host-inbound-traffic protocols ospf
set security zones security-zone trust interfaces eth0 host-inbound-traffic system-services ping
set security zones security-zone trust interfaces eth0 host-inbound-traffic system-services dhcp
set security zones security-zone trust interfaces eth1`);
  const seen = (ifname: string): unknown => {
    const z = c.zoneByInterface.get(ifname);
    return z && { id: z.id, name: z.name, services: [...z.hostInbound.services].sort(), protocols: [...z.hostInbound.protocols] };
  };
  t.same(seen('eth0'), { id: 1, name: 'trust', services: ['dhcp', 'ping'], protocols: ['ospf'] }, 'eth0: its own services, the zone protocols');
  t.same(seen('eth1'), { id: 1, name: 'trust', services: ['ssh'], protocols: ['ospf'] }, "eth1: the zone's");
});

t.test('wildcard-address is the prefixes its mask matches', async (t) => {
  const wildcard = compiled(`${ZONES}set security address-book global address w wildcard-address 10.1.0.7/255.0.255.254\n${POLICY('w', 'any')}`);
  t.equal(wildcard.policies.length, 1, '255.0.255.254: eight free bits, 256 prefixes, the most accepted');
  const small = compiled(`${ZONES}set security address-book global address w wildcard-address 10.1.2.3/255.252.255.255\n${POLICY('w', 'any')}`);
  const prefixes = ['10.0.2.3/32', '10.1.2.3/32', '10.2.2.3/32', '10.3.2.3/32'];
  const set = compiled(
    `${ZONES}${prefixes.map((p, i) => `set security address-book global address a${i} ${p}\nset security address-book global address-set w address a${i}\n`).join('')}${POLICY('w', 'any')}`,
  );
  t.same(policiesOf(small), policiesOf(set), '255.252.255.255: the two free bits give four hosts');
  t.match(result(`${ZONES}set security address-book global address w wildcard-address 10.0.0.1/255.0.0.255\n${POLICY('w', 'any')}`), {
    ok: false,
    errors: [{ message: "wildcard-address '10.0.0.1/255.0.0.255' matches 65536 separate prefixes; at most 256 are supported" }],
  });
});
