// dns-name addresses and `system name-server` in the config language, and policies compiled
// with the daemon's answers: both display forms, scoping, errors at their place, fail closed
// while a name has no answer.
import t from 'tap';
import { compileText, recompilePolicies, type CompileOptions } from '../../lib/config/compile.js';
import type { DnsAnswers } from '../../lib/config/dns-names.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { PolicyEngine } from '../../lib/policy/engine.js';
import { comparable } from '../helpers/compiled-config.js';

const LANGUAGE_ONLY: CompileOptions = { requireInterfaces: false };

const HIERARCHICAL = `
system { name-server { 192.0.2.53; 2001:db8::53; } }
security {
    address-book {
        global {
            address web { dns-name Web.Example.COM. { ipv4-only; } }
            address both { description "any family"; dns-name both.example.com; }
            address-set servers { address web; address both; }
        }
        inside { address db { dns-name db.example.com { ipv6-only; } } attach { zone trust; } }
    }
    zones {
        security-zone trust { interfaces { trust0; } address-book { address local { dns-name local.example.com; } } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy out { match { source-address [ local db ]; destination-address servers; application any; } then { permit; } }
        }
    }
}`;

const SET = `
set system name-server 192.0.2.53
set system name-server 2001:db8::53
set security address-book global address web dns-name Web.Example.COM. ipv4-only
set security address-book global address both description "any family"
set security address-book global address both dns-name both.example.com
set security address-book global address-set servers address web
set security address-book global address-set servers address both
set security address-book inside address db dns-name db.example.com ipv6-only
set security address-book inside attach zone trust
set security zones security-zone trust interfaces trust0
set security zones security-zone trust address-book address local dns-name local.example.com
set security zones security-zone untrust interfaces untrust0
set security policies from-zone trust to-zone untrust policy out match source-address [ local db ]
set security policies from-zone trust to-zone untrust policy out match destination-address servers
set security policies from-zone trust to-zone untrust policy out match application any
set security policies from-zone trust to-zone untrust policy out then permit
`;

function ok(text: string, options: CompileOptions = {}): CompiledConfig {
  const r = compileText(text, 'test.conf', { ...LANGUAGE_ONLY, ...options });
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return r.config;
}

function errors(text: string): string[] {
  const r = compileText(text, 'test.conf', LANGUAGE_ONLY);
  return r.ok ? [] : r.errors.map(String);
}

const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));

t.test('both display forms: the names, their families, who uses them and the name servers', async (t) => {
  const h = ok(HIERARCHICAL);
  t.same(h.nameServers, ['192.0.2.53', '2001:db8::53']);
  t.same(h.dnsNames.map((n) => [n.host, n.families, n.usedBy]), [
    ['web.example.com', ['inet'], ['global web']],
    ['both.example.com', ['inet', 'inet6'], ['global both']],
    ['db.example.com', ['inet6'], ['zone trust db']],
    ['local.example.com', ['inet', 'inet6'], ['zone trust local']],
  ]);
  t.same(comparable(ok(SET)), comparable(h), 'the set form compiles to the same result');
  t.same(h.warnings, [], 'nothing is left unsupported');
});

t.test('answers become prefixes, within the families asked; no answer matches nothing', async (t) => {
  const query = (e: PolicyEngine, dst: string) => e.lookup({
    fromZone: 'trust', toZone: 'untrust', family: 'inet', protocol: 6, source: v4('10.0.0.1'), destination: v4(dst), sourcePort: 1, destinationPort: 80,
  }).policyName;
  const answers: DnsAnswers = new Map([
    ['web.example.com', { inet: ['198.51.100.1'], inet6: ['2001:db8::1'] }],
    ['local.example.com', { inet: ['10.0.0.1'], inet6: [] }],
  ]);
  const unresolved = ok(HIERARCHICAL);
  t.equal(query(new PolicyEngine(unresolved), '198.51.100.1'), 'default-policy', 'before any answer: fail closed');
  const resolved = ok(HIERARCHICAL, { dnsAnswers: answers });
  t.equal(query(new PolicyEngine(resolved), '198.51.100.1'), 'out', 'the answer is matched');
  t.equal(query(new PolicyEngine(resolved), '198.51.100.2'), 'default-policy', 'another address is not');
  t.equal(resolved.policies[0]!.match.destination.v6.length, 0, 'ipv4-only leaves the AAAA answer out');
  const again = recompilePolicies(unresolved, answers);
  t.same(again && comparable({ ...unresolved, policies: again }), comparable(resolved), 'recompiling the running config with new answers gives the same policies');
  t.equal(query(new PolicyEngine({ ...unresolved, policies: again! }), '198.51.100.1'), 'out');
});

t.test('a zone book name wins over the global one for dns-name addresses too', async (t) => {
  const c = ok(`
security {
    address-book { global { address web { dns-name global.example.com; } } }
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } address-book { address web { dns-name zone.example.com; } } }
    }
    policies { from-zone trust to-zone untrust { policy p { match { source-address any; destination-address web; application any; } then { permit; } } } }
}`, { dnsAnswers: new Map([['global.example.com', { inet: ['192.0.2.1'], inet6: [] }], ['zone.example.com', { inet: ['192.0.2.2'], inet6: [] }]]) });
  t.same([...c.policies[0]!.match.destination.v4], [(192 << 24 | 2 << 8 | 2) | 0, -1], 'the to-zone\'s own web');
});

t.test('errors at their place', async (t) => {
  const book = (address: string) => `security { address-book { global { ${address} } } zones { security-zone trust { interfaces { trust0; } } } }`;
  t.match(errors(book('address a { dns-name a.example.com { ipv4-only; ipv6-only; } }')), [/test\.conf:1:\d+: 'ipv6-only' conflicts with 'ipv4-only'/]);
  t.match(errors(book('address a { dns-name "bad name!"; }')), [/invalid dns-name 'bad name!': expected a domain name/]);
  t.match(errors(book('address a { dns-name 192.0.2.1; }')), [/invalid dns-name '192\.0\.2\.1'/]);
  t.match(errors(book('address a { 192.0.2.1/32; dns-name a.example.com; }')), [/address 'a' has more than one value/]);
  t.match(errors(`system { name-server { example.com; } } ${book('address a 192.0.2.1/32;')}`), [/invalid name-server 'example\.com'/]);
});

t.test('policies to junos-host compile; from junos-host stays unsupported; junos-host is no zone elsewhere', async (t) => {
  const zones = 'zones { security-zone trust { interfaces { trust0; } } }';
  const rule = 'policy p { match { source-address any; destination-address any; application junos-ssh; } then { permit; } }';
  const c = ok(`security { ${zones} policies { from-zone trust to-zone junos-host { ${rule} } } }`);
  t.same(c.policies.map((p) => [p.name, p.fromZone, p.toZone]), [['p', 'trust', 'junos-host']]);
  t.match(errors(`security { ${zones} policies { from-zone junos-host to-zone trust { ${rule} } } }`),
    [/security policies from-zone junos-host to-zone trust not supported/]);
  t.match(errors(`security { ${zones} policies { from-zone trust to-zone nowhere { ${rule} } } }`), [/unknown zone 'nowhere'/]);
});

t.test('the engine judges traffic to the box by its zone pair only: no match is no decision', async (t) => {
  const c = ok(`security {
    zones { security-zone trust { interfaces { trust0; } } security-zone untrust { interfaces { untrust0; } } }
    policies {
        from-zone trust to-zone junos-host {
            policy ssh { match { source-address any; destination-address any; application junos-ssh; } then { permit; } }
            policy deny-telnet { match { source-address any; destination-address any; application junos-telnet; } then { deny; } }
        }
        global { policy all { match { source-address any; destination-address any; application any; } then { deny; } } }
    }
}`);
  const e = new PolicyEngine(c);
  const q = (from: string, port: number) => ({
    fromZone: from, toZone: 'junos-host', family: 'inet' as const, protocol: 6, source: v4('10.1.0.2'), destination: v4('10.1.0.1'), sourcePort: 40000, destinationPort: port,
  });
  t.match(e.matchHost(q('trust', 22)), { policyName: 'ssh', action: 'permit' });
  t.match(e.matchHost(q('trust', 23)), { policyName: 'deny-telnet', action: 'deny' });
  t.equal(e.matchHost(q('trust', 80)), null, 'no rule of the pair: host-inbound-traffic decides (no global rule, no default policy)');
  t.equal(e.matchHost(q('untrust', 22)), null, 'a zone without junos-host policies');
  t.equal(e.hits(c.policies[0]!.id), 1, 'the deciding rule counts its hit');
  t.equal(e.lookupHost(q('trust', 22))?.policyName, 'ssh');
  t.equal(e.hits(c.policies[0]!.id), 1, 'lookupHost counts nothing');
});
