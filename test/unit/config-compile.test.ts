import t from 'tap';
import type { Statement } from '../../lib/config/ast.js';
import { PREDEFINED_APPLICATIONS } from '../../lib/config/applications.js';
import { compile, compileText, readConfigTree, type CompileResult } from '../../lib/config/compile.js';
import { parse } from '../../lib/config/parser.js';
import type { CompiledConfig, Policy } from '../../lib/config/types.js';

const HIERARCHICAL = `
/* Two-zone firewall with a DMZ, written the way Junos shows it. */
interfaces {
    trust0 {
        unit 0 {
            family inet {
                address 192.0.2.1/24;
                filter {
                    input protect-in;
                }
            }
            family inet6;
        }
    }
    lo0 {
        unit 0 {
            family inet {
                filter {
                    input protect-re;
                }
            }
        }
    }
}
firewall {
    family inet {
        filter protect-in {
            term all {
                then accept;
            }
        }
        filter protect-re {
            term all {
                then accept;
            }
        }
    }
}
security {
    zones {
        security-zone trust {
            interfaces {
                trust0;
                trust1;
            }
            host-inbound-traffic {
                system-services {
                    all;
                    telnet except;
                }
                protocols {
                    bgp;
                }
            }
        }
        security-zone untrust {
            interfaces {
                untrust0;
            }
        }
        inactive: security-zone lab {
            interfaces {
                lab0;
            }
        }
        security-zone dmz {
            interfaces {
                dmz0;
            }
            host-inbound-traffic {
                system-services {
                    ping;
                    ssh;
                }
            }
        }
    }
    address-book global {
        address web1 198.51.100.10/32;
        address web2 198.51.100.11;
        address web6 2001:db8:10::/64;
        address clients 192.0.2.0/24;
        address-set web-servers {
            address web1;
            address web2;
            address web6;
        }
        address-set everything-web {
            address-set web-servers;
        }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-web {
                match {
                    source-address clients;
                    destination-address any;
                    application [ junos-http junos-https ];
                }
                then {
                    permit;
                    log {
                        session-init;
                        session-close;
                    }
                    count;
                }
            }
            inactive: policy retired {
                match {
                    source-address any;
                    destination-address any;
                    application any;
                }
                then {
                    deny;
                }
            }
            policy allow-dns {
                match {
                    source-address any;
                    destination-address any;
                    application dns;
                }
                then {
                    permit;
                }
            }
        }
        from-zone untrust to-zone dmz {
            policy to-web {
                match {
                    source-address any;
                    destination-address everything-web;
                    application web;
                }
                then {
                    permit;
                    log {
                        session-close;
                    }
                }
            }
        }
        global {
            policy no-telnet {
                match {
                    source-address any;
                    destination-address any;
                    application junos-telnet;
                }
                then {
                    reject;
                    log {
                        session-init;
                    }
                }
            }
        }
        default-policy {
            permit-all;
        }
    }
    flow {
        timeouts {
            tcp 3600;
            udp 30;
        }
        max-sessions 50000;
    }
}
applications {
    application web-alt {
        protocol tcp;
        destination-port 8080-8081;
    }
    application-set web {
        application junos-http;
        application web-alt;
    }
    application-set dns {
        application junos-dns-udp;
        application junos-dns-tcp;
    }
}
`;

/** The same configuration as set commands, sections interleaved differently. */
const SET = `
set applications application web-alt protocol tcp destination-port 8080-8081
set security zones security-zone trust interfaces trust0
set security zones security-zone trust interfaces trust1
set security zones security-zone trust host-inbound-traffic system-services all
set security zones security-zone trust host-inbound-traffic system-services telnet except
set security zones security-zone trust host-inbound-traffic protocols bgp
set security zones security-zone untrust interfaces untrust0
set security zones inactive: security-zone lab interfaces lab0
set security zones security-zone dmz interfaces dmz0
set security zones security-zone dmz host-inbound-traffic system-services ping
set security zones security-zone dmz host-inbound-traffic system-services ssh
set security address-book global address web1 198.51.100.10/32
set security address-book global address web2 198.51.100.11
set security address-book global address web6 2001:db8:10::/64
set security address-book global address clients 192.0.2.0/24
set security address-book global address-set web-servers address web1
set security address-book global address-set web-servers address web2
set security address-book global address-set web-servers address web6
set security address-book global address-set everything-web address-set web-servers
set security policies from-zone trust to-zone untrust policy allow-web match source-address clients destination-address any
set security policies from-zone trust to-zone untrust policy allow-web match application junos-http
set security policies from-zone trust to-zone untrust policy allow-web match application junos-https
set security policies from-zone trust to-zone untrust policy allow-web then permit
set security policies from-zone trust to-zone untrust policy allow-web then log session-init
set security policies from-zone trust to-zone untrust policy allow-web then log session-close
set security policies from-zone trust to-zone untrust policy allow-web then count
set security policies from-zone trust to-zone untrust inactive: policy retired match source-address any destination-address any application any
set security policies from-zone trust to-zone untrust inactive: policy retired then deny
set security policies from-zone trust to-zone untrust policy allow-dns match source-address any destination-address any application dns
set security policies from-zone trust to-zone untrust policy allow-dns then permit
set security policies from-zone untrust to-zone dmz policy to-web match source-address any
set security policies from-zone untrust to-zone dmz policy to-web match destination-address everything-web
set security policies from-zone untrust to-zone dmz policy to-web match application web
set security policies from-zone untrust to-zone dmz policy to-web then permit log session-close
set security policies global policy no-telnet match source-address any destination-address any application junos-telnet
set security policies global policy no-telnet then reject log session-init
set security policies default-policy permit-all
set security flow timeouts tcp 3600
set security flow timeouts udp 30
set security flow max-sessions 50000
set applications application-set web application junos-http
set applications application-set web application web-alt
set applications application-set dns application junos-dns-udp
set applications application-set dns application junos-dns-tcp
set interfaces trust0 unit 0 family inet address 192.0.2.1/24
set interfaces trust0 unit 0 family inet filter input protect-in
set interfaces trust0 unit 0 family inet6
set interfaces lo0 unit 0 family inet filter input protect-re
set firewall family inet filter protect-in term all then accept
set firewall family inet filter protect-re term all then accept
`;

function compiled(text: string, file = 'golden.conf'): CompiledConfig {
  const r = compileText(text, file);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** The runtime tables as plain data (typed arrays and sets spelt out). */
function tables(c: CompiledConfig): unknown {
  return {
    zones: c.zones.map((z) => ({ ...z, hostInbound: { services: [...z.hostInbound.services].sort(), protocols: [...z.hostInbound.protocols].sort() } })),
    zoneByInterface: [...c.zoneByInterface].map(([i, z]) => [i, z.name]),
    interfaces: c.interfaces,
    interfaceSettings: [...c.interfaceSettings].map(([n, s]) => [n, [...s.families]]),
    policies: c.policies.map(plainPolicy),
    defaultPolicy: c.defaultPolicy,
    flow: c.flow,
  };
}

function plainPolicy(p: Policy): unknown {
  const m = p.match;
  return { ...p, match: { ...m, source: [Array.from(m.source.v4), Array.from(m.source.v6)], destination: [Array.from(m.destination.v4), Array.from(m.destination.v6)] } };
}

function plainTree(tree: Statement[]): unknown {
  return tree.map((s) => [s.words.map((w) => w.text).join(' '), s.inactive, s.children && plainTree(s.children)]);
}

t.test('hierarchical and set forms compile to equal tables', async (t) => {
  const h = compiled(HIERARCHICAL, 'h.conf');
  const s = compiled(SET, 's.conf');
  t.same(tables(s), tables(h));
  t.equal(s.source, 's.conf');
});

t.test('zones', async (t) => {
  const c = compiled(HIERARCHICAL);
  t.same(
    c.zones.map((z) => [z.id, z.name, z.interfaces]),
    [
      [1, 'trust', ['trust0', 'trust1']],
      [2, 'untrust', ['untrust0']],
      [4, 'dmz', ['dmz0']],
    ],
    'ids are positional and an inactive zone keeps its number',
  );
  t.same(c.interfaces, ['trust0', 'trust1', 'untrust0', 'dmz0']);
  t.equal(c.zoneByInterface.get('trust1'), c.zones[0]);
  t.equal(c.zoneByInterface.get('lab0'), undefined, 'interfaces of an inactive zone are in no zone');
  const trust = c.zones[0].hostInbound;
  t.ok(trust.services.has('ssh') && trust.services.has('ping') && trust.services.has('https'), 'all expands');
  t.notOk(trust.services.has('telnet'), 'except removes');
  t.notOk(trust.services.has('all'));
  t.same([...trust.protocols], ['bgp']);
  t.same([...c.zones[2].hostInbound.services].sort(), ['ping', 'ssh']);
  t.same([...c.zones[1].hostInbound.services], []);
});

t.test('interfaces stanza is optional and stores filters', async (t) => {
  const c = compiled(HIERARCHICAL);
  t.same(c.interfaceSettings.get('trust0')?.families.get('inet'), { inputFilter: 'protect-in', outputFilter: null });
  t.same(c.interfaceSettings.get('trust0')?.families.get('inet6'), { inputFilter: null, outputFilter: null });
  t.same(c.interfaceSettings.get('lo0')?.families.get('inet'), { inputFilter: 'protect-re', outputFilter: null });
  t.notOk(c.interfaceSettings.has('dmz0'), 'zone interfaces need no interfaces stanza');
  const bare = compiled('set security zones security-zone a interfaces eth0');
  t.same(bare.interfaces, ['eth0']);
  t.same(bare.interfaceSettings.size, 0);
});

t.test('policies: ids, order, actions, logging', async (t) => {
  const c = compiled(HIERARCHICAL);
  t.same(
    c.policies.map((p) => [p.id, p.name, p.fromZone, p.toZone, p.action, p.logInit, p.logClose, p.count]),
    [
      [0x10001, 'allow-web', 'trust', 'untrust', 'permit', true, true, true],
      [0x10003, 'allow-dns', 'trust', 'untrust', 'permit', false, false, false],
      [0x20001, 'to-web', 'untrust', 'dmz', 'permit', false, true, false],
      [0xffff0001, 'no-telnet', null, null, 'reject', true, false, false],
    ],
  );
  t.equal(c.defaultPolicy, 'permit-all');
  const web = c.policies[0].match;
  t.same(web.sourceAddresses, ['clients']);
  t.same(web.applications, ['junos-http', 'junos-https']);
  t.same(Array.from(web.source.v4), [0xc0000200 | 0, 0xffffff00 | 0]);
  t.same(Array.from(web.source.v6), []);
  t.same(Array.from(web.destination.v4), [0, 0], 'any is a /0 of each family');
  t.same(Array.from(web.destination.v6), [0, 0, 0, 0, 0, 0, 0, 0]);
  t.same(web.application.terms.map((x) => [x.application, x.protocol, x.destinationPortLow]), [
    ['junos-http', 6, 80],
    ['junos-https', 6, 443],
  ]);
  const toWeb = c.policies[2].match;
  t.same(toWeb.destination.v4.length / 2, 2, 'nested address-sets expand');
  t.same(toWeb.destination.v6.length / 8, 1);
  t.same(toWeb.application.terms.map((x) => x.application), ['junos-http', 'web-alt'], 'application-set members keep their names');
});

t.test('ids survive application expansion, deactivation and additions elsewhere', async (t) => {
  const base = `
set security zones security-zone a
set security zones security-zone b
set security policies from-zone a to-zone b policy p1 match source-address any destination-address any application junos-http
set security policies from-zone a to-zone b policy p1 then permit
set security policies from-zone a to-zone b policy p2 match source-address any destination-address any application junos-ssh
set security policies from-zone a to-zone b policy p2 then permit
`;
  const ids = (text: string): Record<string, number> => Object.fromEntries(compiled(text).policies.map((p) => [p.name, p.id]));
  t.same(ids(base), { p1: 0x10001, p2: 0x10002 });
  const expanded = base.replace('application junos-http', 'application [ junos-http junos-https junos-ssh ]');
  t.same(ids(expanded), { p1: 0x10001, p2: 0x10002 });
  const viaSet = `${base.replace('application junos-http', 'application web')}set applications application-set web application junos-http\nset applications application-set web application junos-https\n`;
  t.same(ids(viaSet), { p1: 0x10001, p2: 0x10002 });
  t.same(ids(base.replace(/policy p1 /g, 'inactive: policy p1 ')), { p2: 0x10002 });
  const laterPair = `${base}set security policies from-zone b to-zone a policy back match source-address any destination-address any application any\nset security policies from-zone b to-zone a policy back then deny\n`;
  t.same(ids(laterPair), { p1: 0x10001, p2: 0x10002, back: 0x20001 });
  const interleaved = `${base}set security policies from-zone b to-zone a policy back match source-address any destination-address any application any
set security policies from-zone b to-zone a policy back then deny
set security policies from-zone a to-zone b policy p3 match source-address any destination-address any application any
set security policies from-zone a to-zone b policy p3 then deny
`;
  t.same(ids(interleaved), { p1: 0x10001, p2: 0x10002, p3: 0x10003, back: 0x20001 }, 'sets are numbered by first appearance');
});

t.test('defaults', async (t) => {
  const c = compiled('');
  t.same(c.zones, []);
  t.same(c.policies, []);
  t.equal(c.defaultPolicy, 'deny-all');
  const checks = { noSynCheck: false, noSequenceCheck: false };
  const slowPathBudget = { capacity: 10000, perSource: 2500, tcpSyn: 5000, newFlow: 3000, exception: 2000, burstMs: 500, denyCacheTimeout: 2 };
  t.same(c.flow, { timeouts: { tcp: 1800, tcpInitial: 20, tcpClosing: 2, udp: 60, icmp: 60, other: 60 }, maxSessions: 1000000, tcpSession: checks, slowPathBudget });
  const h = compiled(HIERARCHICAL);
  t.same(h.flow, { timeouts: { tcp: 3600, tcpInitial: 20, tcpClosing: 2, udp: 30, icmp: 60, other: 60 }, maxSessions: 50000, tcpSession: checks, slowPathBudget });
  t.equal(compiled('set security policies default-policy deny-all').defaultPolicy, 'deny-all');
  t.equal(compiled('security { policies { default-policy permit-all; } }').defaultPolicy, 'permit-all');
});

t.test('security flow tcp-session: the checks XDP relaxes, and the Junos timeout knobs', async (t) => {
  const c = compiled('security { flow { tcp-session { no-syn-check; no-sequence-check; tcp-initial-timeout 30; time-wait-state { session-timeout 150; } } } }');
  t.same(c.flow.tcpSession, { noSynCheck: true, noSequenceCheck: true });
  t.equal(c.flow.timeouts.tcpInitial, 30, 'tcp-initial-timeout');
  t.equal(c.flow.timeouts.tcpClosing, 150, 'time-wait-state session-timeout: the wait after a close');
  t.same(compiled('set security flow tcp-session no-syn-check').flow.tcpSession, { noSynCheck: true, noSequenceCheck: false }, 'set form');
  const bad = compileText('security { flow { tcp-session { tcp-initial-timeout 2; } } }', 'x.conf');
  t.notOk(bad.ok, 'tcp-initial-timeout below Junos\' 4 s is refused');
  const unknown = compileText('security { flow { tcp-session { no-such-check; } } }', 'x.conf');
  t.notOk(unknown.ok, 'an unknown tcp-session statement is refused');
});

t.test('security flow slow-path-budget: budgets default to shares of the capacity, each may be set, 0 turns one off', async (t) => {
  const c = compiled('security { flow { slow-path-budget { capacity 8000; new-flow 0; burst-ms 100; deny-cache-timeout 10; } } }');
  t.same(c.flow.slowPathBudget, { capacity: 8000, perSource: 2000, tcpSyn: 4000, newFlow: 0, exception: 1600, burstMs: 100, denyCacheTimeout: 10 });
  t.equal(compiled('set security flow slow-path-budget per-source 300').flow.slowPathBudget.perSource, 300, 'set form');
  const bad = compileText('security {\n    flow { slow-path-budget { tcp-syn lots; } }\n}', 'x.conf');
  t.notOk(bad.ok, 'a budget that is not a number is refused');
  t.match(bad.ok ? '' : bad.errors.join('\n'), /x\.conf:2:\d+: .*tcp-syn budget 'lots'/, 'with file:line:column');
  t.notOk(compileText('security { flow { slow-path-budget { capacity 0; } } }', 'x.conf').ok, 'a capacity of 0 is refused');
  t.notOk(compileText('security { flow { slow-path-budget { per-host 5; } } }', 'x.conf').ok, 'an unknown statement is refused');
});

t.test('predefined applications', async (t) => {
  const def = (name: string): unknown => {
    const [x] = PREDEFINED_APPLICATIONS.get(name) ?? [];
    return x && [x.protocol, x.destinationPortLow, x.destinationPortHigh, x.icmpType];
  };
  t.same(def('junos-http'), [6, 80, 80, -1]);
  t.same(def('junos-https'), [6, 443, 443, -1]);
  t.same(def('junos-ssh'), [6, 22, 22, -1]);
  t.same(def('junos-telnet'), [6, 23, 23, -1]);
  t.same(def('junos-ftp'), [6, 21, 21, -1]);
  t.same(def('junos-smtp'), [6, 25, 25, -1]);
  t.same(def('junos-dns-udp'), [17, 53, 53, -1]);
  t.same(def('junos-dns-tcp'), [6, 53, 53, -1]);
  t.same(def('junos-ntp'), [17, 123, 123, -1]);
  t.same(def('junos-bgp'), [6, 179, 179, -1]);
  t.same(def('junos-syslog'), [17, 514, 514, -1]);
  t.same(def('junos-icmp-ping'), [1, 0, 65535, 8]);
  t.same(def('junos-icmp6-echo-request'), [58, 0, 65535, 128]);
  t.same(def('junos-ping'), [1, 0, 65535, -1], 'junos-ping is all of ICMP, as in junos-defaults');
  t.same(def('junos-pingv6'), [58, 0, 65535, -1]);
  t.same(def('junos-icmp-all'), [1, 0, 65535, -1]);
  t.same(def('junos-icmp6-all'), [58, 0, 65535, -1]);
});

t.test('user applications', async (t) => {
  const c = compiled(`
applications {
    application a { protocol udp; source-port 1024-65535; destination-port syslog; }
    application b { protocol icmp; icmp-type 3; icmp-code 4; }
    application c { protocol icmp6; icmp6-type 135; }
    application d { protocol 47; }
    application e { protocol sctp; destination-port 2905; }
}
security {
    zones { security-zone z; }
    policies { global { policy p { match { source-address any; destination-address any; application [ a b c d e ]; } then permit; } } }
}`);
  t.same(
    c.policies[0].match.application.terms.map((x) => [x.application, x.protocol, x.sourcePortLow, x.sourcePortHigh, x.destinationPortLow, x.destinationPortHigh, x.icmpType, x.icmpCode]),
    [
      ['a', 17, 1024, 65535, 514, 514, -1, -1],
      ['b', 1, 0, 65535, 0, 65535, 3, 4],
      ['c', 58, 0, 65535, 0, 65535, 135, -1],
      ['d', 47, 0, 65535, 0, 65535, -1, -1],
      ['e', 132, 0, 65535, 2905, 2905, -1, -1],
    ],
  );
});

t.test('set lines may carry several leaves and merge into hierarchical blocks', async (t) => {
  const text = `
applications { application a { protocol tcp; } }
set applications application a destination-port 443
security { zones { security-zone z { interfaces { eth0; } } } }
set security zones security-zone z interfaces eth1
set security zones security-zone z host-inbound-traffic system-services ping ssh
`;
  const { tree, errors } = readConfigTree(text, 'm.conf');
  t.same(errors, []);
  t.same(plainTree(tree), [
    ['applications', false, [['application a', false, [['protocol tcp', false, null], ['destination-port 443', false, null]]]]],
    [
      'security',
      false,
      [
        [
          'zones',
          false,
          [
            [
              'security-zone z',
              false,
              [
                ['interfaces', false, [['eth0', false, null], ['eth1', false, null]]],
                ['host-inbound-traffic', false, [['system-services', false, [['ping', false, null], ['ssh', false, null]]]]],
              ],
            ],
          ],
        ],
      ],
    ],
  ]);
});

t.test('inactive statements are kept in the tree and ignored', async (t) => {
  const c = compiled(`
security {
    zones { security-zone a { interfaces { inactive: eth9; eth0; } } security-zone b; }
    policies {
        from-zone a to-zone b {
            policy p {
                match { source-address any; destination-address any; application junos-http; inactive: application junos-https; }
                then { permit; inactive: log { session-init; } }
            }
        }
        inactive: default-policy { permit-all; }
    }
}`);
  t.same(c.zones[0].interfaces, ['eth0']);
  t.same(c.policies[0].match.applications, ['junos-http']);
  t.equal(c.policies[0].logInit, false);
  t.equal(c.defaultPolicy, 'deny-all');
  t.match(JSON.stringify(plainTree(c.tree)), /"log",true/);
});

t.test('compile accepts a raw parse tree or a normalised one', async (t) => {
  const raw = parse(HIERARCHICAL, 'h.conf').tree;
  const first = compile(raw, 'h.conf');
  t.ok(first.ok);
  const second: CompileResult = first.ok ? compile(first.config.tree, 'h.conf') : first;
  t.ok(second.ok);
  if (first.ok && second.ok) t.same(tables(second.config), tables(first.config));
});
