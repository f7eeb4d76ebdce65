import t from 'tap';
import { compileText, readConfigTree } from '../../lib/config/compile.js';
import { filterId, filterIdFamily, parseTcpFlags, tableHas, type FirewallConfig } from '../../lib/config/filters.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { configNameResolver } from '../../lib/events/resolver.js';
import { FilterNames } from '../../lib/filter/names.js';

const HIERARCHICAL = `
interfaces {
    trust0 {
        unit 0 {
            family inet {
                filter {
                    input in4;
                    output out4;
                }
            }
            family inet6 {
                filter {
                    input in6;
                }
            }
        }
    }
    lo0 {
        unit 0 {
            family inet {
                filter {
                    input protect-re;
                }
            }
            family inet6 {
                filter {
                    input protect-re;
                }
            }
        }
    }
}
security {
    zones {
        security-zone trust {
            interfaces {
                trust0;
            }
        }
    }
}
policy-options {
    prefix-list mgmt {
        192.0.2.0/24;
        198.51.100.7;
        2001:db8:1::/48;
    }
    prefix-list blocked {
        192.0.2.128/25;
    }
}
routing-instances {
    isp2 {
        instance-type virtual-router;
        table-id 100;
    }
}
firewall {
    family inet {
        filter in4 {
            term ssh {
                from {
                    source-prefix-list {
                        mgmt;
                        blocked except;
                    }
                    protocol tcp;
                    destination-port [ ssh 2222 ];
                    tcp-flags "syn & !ack";
                }
                then {
                    count ssh-syn;
                    log;
                    accept;
                }
            }
            inactive: term retired {
                then discard;
            }
            term ping {
                from {
                    protocol icmp;
                    icmp-type [ echo-request echo-reply ];
                }
                then accept;
            }
            term via-isp2 {
                from {
                    source-address {
                        10.0.0.0/8;
                        10.1.0.0/16 except;
                    }
                    dscp [ af11 ef 40-42 ];
                }
                then routing-instance isp2;
            }
            term frags {
                from {
                    is-fragment;
                }
                then {
                    count frags;
                    discard;
                }
            }
            term udp-high {
                from {
                    protocol udp;
                    source-port 1024-65535;
                    destination-port 33434-33534;
                }
                then {
                    reject port-unreachable;
                    syslog;
                }
            }
        }
        filter out4 {
            term web {
                from {
                    protocol tcp;
                    destination-port [ http https ];
                }
                then accept;
            }
            term rest {
                then {
                    reject;
                    count rest;
                }
            }
        }
        filter protect-re {
            term est {
                from {
                    tcp-established;
                }
                then accept;
            }
            term icmp {
                from {
                    protocol icmp;
                    icmp-type unreachable;
                    icmp-code [ port-unreachable fragmentation-needed ];
                }
                then accept;
            }
        }
    }
    family inet6 {
        filter in6 {
            term nd {
                from {
                    next-header icmp6;
                    icmp-type [ neighbor-solicit neighbor-advertisement 133-134 ];
                }
                then accept;
            }
            term mgmt {
                from {
                    source-prefix-list mgmt;
                    traffic-class af21;
                }
                then {
                    accept;
                    log;
                }
            }
            term other {
                from {
                    destination-address {
                        ::/0;
                        2001:db8:ffff::/48 except;
                    }
                }
                then reject address-unreachable;
            }
        }
        filter protect-re {
            term all {
                then accept;
            }
        }
    }
}
`;

/** The same configuration as set commands, stanzas in another order. */
const SET = `
set firewall family inet filter in4 term ssh from source-prefix-list mgmt
set firewall family inet filter in4 term ssh from source-prefix-list blocked except
set firewall family inet filter in4 term ssh from protocol tcp
set firewall family inet filter in4 term ssh from destination-port ssh
set firewall family inet filter in4 term ssh from destination-port 2222
set firewall family inet filter in4 term ssh from tcp-flags "syn & !ack"
set firewall family inet filter in4 term ssh then count ssh-syn log accept
set firewall family inet filter in4 inactive: term retired then discard
set firewall family inet filter in4 term ping from protocol icmp icmp-type [ echo-request echo-reply ]
set firewall family inet filter in4 term ping then accept
set firewall family inet filter in4 term via-isp2 from source-address 10.0.0.0/8
set firewall family inet filter in4 term via-isp2 from source-address 10.1.0.0/16 except
set firewall family inet filter in4 term via-isp2 from dscp [ af11 ef 40-42 ]
set firewall family inet filter in4 term via-isp2 then routing-instance isp2
set firewall family inet filter in4 term frags from is-fragment
set firewall family inet filter in4 term frags then count frags
set firewall family inet filter in4 term frags then discard
set firewall family inet filter in4 term udp-high from protocol udp source-port 1024-65535 destination-port 33434-33534
set firewall family inet filter in4 term udp-high then reject port-unreachable
set firewall family inet filter in4 term udp-high then syslog
set firewall family inet6 filter in6 term nd from next-header icmp6
set firewall family inet6 filter in6 term nd from icmp-type [ neighbor-solicit neighbor-advertisement 133-134 ]
set firewall family inet6 filter in6 term nd then accept
set firewall family inet filter out4 term web from protocol tcp destination-port [ http https ]
set firewall family inet filter out4 term web then accept
set firewall family inet filter out4 term rest then reject
set firewall family inet filter out4 term rest then count rest
set firewall family inet6 filter in6 term mgmt from source-prefix-list mgmt
set firewall family inet6 filter in6 term mgmt from traffic-class af21
set firewall family inet6 filter in6 term mgmt then accept log
set firewall family inet6 filter in6 term other from destination-address ::/0
set firewall family inet6 filter in6 term other from destination-address 2001:db8:ffff::/48 except
set firewall family inet6 filter in6 term other then reject address-unreachable
set firewall family inet filter protect-re term est from tcp-established
set firewall family inet filter protect-re term est then accept
set firewall family inet filter protect-re term icmp from protocol icmp icmp-type unreachable
set firewall family inet filter protect-re term icmp from icmp-code [ port-unreachable fragmentation-needed ]
set firewall family inet filter protect-re term icmp then accept
set firewall family inet6 filter protect-re term all then accept
set routing-instances isp2 instance-type virtual-router table-id 100
set policy-options prefix-list mgmt 192.0.2.0/24
set policy-options prefix-list mgmt 198.51.100.7
set policy-options prefix-list mgmt 2001:db8:1::/48
set policy-options prefix-list blocked 192.0.2.128/25
set interfaces trust0 unit 0 family inet filter input in4 output out4
set interfaces trust0 unit 0 family inet6 filter input in6
set interfaces lo0 unit 0 family inet filter input protect-re
set interfaces lo0 unit 0 family inet6 filter input protect-re
set security zones security-zone trust interfaces trust0
`;

function compiled(text: string, file = 'f.conf'): CompiledConfig {
  const r = compileText(text, file);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** Maps spelt out, for deep comparison. */
function plain(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Map ? [...v] : v)));
}

function tables(c: CompiledConfig): unknown {
  return plain({ firewall: c.firewall, routingInstances: c.routingInstances });
}

t.test('hierarchical and set forms compile to equal tables', async (t) => {
  const h = compiled(HIERARCHICAL, 'h.conf');
  const s = compiled(SET, 's.conf');
  t.same(tables(s), tables(h));
  // Printed either way and read back, the configuration compiles to the same tables.
  for (const printed of [printHierarchical(h.tree), printSet(h.tree)]) t.same(tables(compiled(printed)), tables(h));
});

t.test('ids: positional per family, inactive terms keep their number', async (t) => {
  const fw = compiled(HIERARCHICAL).firewall;
  t.same(
    fw.filters.map((f) => [f.id, f.family, f.name, f.terms.map((x) => `${x.id}:${x.name}`)]),
    [
      [0x10001, 'inet', 'in4', ['1:ssh', '3:ping', '4:via-isp2', '5:frags', '6:udp-high']],
      [0x10002, 'inet', 'out4', ['1:web', '2:rest']],
      [0x10003, 'inet', 'protect-re', ['1:est', '2:icmp']],
      [0x20001, 'inet6', 'in6', ['1:nd', '2:mgmt', '3:other']],
      [0x20002, 'inet6', 'protect-re', ['1:all']],
    ],
  );
  t.equal(filterId('inet6', 2), 0x20002);
  t.same([filterIdFamily(0x10003), filterIdFamily(0x20001), filterIdFamily(0), filterIdFamily(0x30001), filterIdFamily(0x10000)], ['inet', 'inet6', null, null, null]);
});

t.test('ids survive edits of other filters and of later terms', async (t) => {
  const base = `
set firewall family inet filter a term t1 then accept
set firewall family inet filter a term t2 then discard
set firewall family inet filter b term x then accept
set firewall family inet6 filter c term y then accept
`;
  const ids = (text: string): string[] => compiled(text).firewall.filters.flatMap((f) => f.terms.map((x) => `${f.name}=${f.id.toString(16)}/${x.name}=${x.id}`));
  const want = ['a=10001/t1=1', 'a=10001/t2=2', 'b=10002/x=1', 'c=20001/y=1'];
  t.same(ids(base), want);
  t.same(ids(`${base}set firewall family inet filter a term t3 then accept\n`), [...want.slice(0, 2), 'a=10001/t3=3', ...want.slice(2)], 'a new term takes the next id');
  t.same(ids(base.replace('filter a term t1', 'filter a inactive: term t1')), want.slice(1), 'deactivating a term renumbers nothing');
  t.same(ids(base.replace('inet filter a term t2 then discard', 'inet filter a term t2 from protocol tcp')), want, 'changing a term renumbers nothing');
  t.same(ids(`${base}set firewall family inet filter d term z then accept\n`), [...want.slice(0, 3), 'd=10003/z=1', want[3]], 'a new filter takes the next ordinal');
  t.same(ids(base.replace('inet filter a term t1', 'inet inactive: filter a term t1').replace('inet filter a term t2', 'inet inactive: filter a term t2')), want.slice(2), 'an inactive filter keeps its ordinal');
  t.same(ids(`set firewall family inet6 filter c term y then accept\n${base}`), want, 'families are numbered apart');
});

t.test('match conditions', async (t) => {
  const fw = compiled(HIERARCHICAL).firewall;
  const [in4, out4, re4, in6] = fw.filters;
  const ssh = in4.terms[0];
  t.same(
    ssh.match.sourcePrefixList?.map((p) => [p.prefix.words, p.prefix.length, p.except]),
    [
      [[0xc0000200], 24, false],
      [[0xc6336407], 32, false],
      [[0xc0000280], 25, true],
    ],
    'the family prefixes of the lists; except lists marked',
  );
  t.same(ssh.match.protocol, [[6, 6]]);
  t.same(ssh.match.destinationPort, [[22, 22], [2222, 2222]]);
  t.equal(ssh.match.tcpFlags?.expression, 'syn & !ack');
  t.ok(tableHas(ssh.match.tcpFlags!.low, ssh.match.tcpFlags!.high, 0x02), 'SYN');
  t.notOk(tableHas(ssh.match.tcpFlags!.low, ssh.match.tcpFlags!.high, 0x12), 'SYN-ACK');
  t.same([ssh.action, ssh.log, ssh.syslog, ssh.count, ssh.rejectReason, ssh.routingInstance], ['accept', true, false, 'ssh-syn', null, null]);
  t.same(in4.terms[1].match.icmpType, [[0, 0], [8, 8]], 'icmp names');
  const pbr = in4.terms[2];
  t.same(pbr.match.sourceAddress?.map((p) => [p.prefix.words[0], p.prefix.length, p.except]), [[0x0a000000, 8, false], [0x0a010000, 16, true]]);
  t.same(pbr.match.dscp, [[10, 10], [40, 42], [46, 46]], 'af11 = 10, ef = 46, sorted and merged');
  t.same([pbr.action, pbr.routingInstance], ['accept', { name: 'isp2', type: 'virtual-router', tableId: 100 }]);
  t.same([in4.terms[3].match.isFragment, in4.terms[3].action, in4.terms[3].count], [true, 'discard', 'frags']);
  const udp = in4.terms[4];
  t.same([udp.match.sourcePort, udp.match.destinationPort, udp.action, udp.rejectReason, udp.syslog], [[[1024, 65535]], [[33434, 33534]], 'reject', 'port-unreachable', true]);
  t.same([out4.terms[0].match.destinationPort, out4.terms[1].action, out4.terms[1].rejectReason], [[[80, 80], [443, 443]], 'reject', 'tcp-reset'], "a bare reject is tcp-reset");
  t.equal(re4.terms[0].match.tcpFlags?.expression, 'tcp-established');
  t.same(re4.terms[1].match.icmpCode, [[3, 4]]);
  t.same(in6.terms[0].match.protocol, [[58, 58]], 'next-header is protocol');
  t.same(in6.terms[0].match.icmpType, [[133, 136]], 'ICMPv6 numbering');
  t.same(in6.terms[1].match.sourcePrefixList?.map((p) => [p.prefix.family, p.prefix.length]), [['inet6', 48]], 'only the family prefixes');
  t.same(in6.terms[1].match.dscp, [[18, 18]], 'traffic-class is dscp');
  t.same([in6.terms[2].action, in6.terms[2].rejectReason], ['reject', 'address-unreachable']);
  const sized = compiled('set firewall family inet filter f term t from packet-length [ 1000-1500 40 41-60 ]').firewall.filters[0]!.terms[0]!;
  t.same(sized.match.packetLength, [[40, 60], [1000, 1500]], 'packet-length: sorted and merged');
});

t.test('a term without a terminating action accepts; a prefix-list condition of except lists matches the rest', async (t) => {
  const c = compiled(`
set policy-options prefix-list bad 10.0.0.0/8
set firewall family inet filter f term t from source-prefix-list bad except
set firewall family inet filter f term t then count c
set firewall family inet filter f term u from protocol tcp
`);
  const [tt, u] = c.firewall.filters[0].terms;
  t.same([tt.action, tt.count, u.action, u.log], ['accept', 'c', 'accept', false]);
  t.same(tt.match.sourcePrefixList?.map((p) => [p.prefix.words[0], p.prefix.length, p.except]), [[0, 0, false], [0x0a000000, 8, true]]);
});

t.test('attachments and routing instances', async (t) => {
  const c = compiled(HIERARCHICAL);
  const fw: FirewallConfig = c.firewall;
  t.same(plain(fw.interfaces), [['trust0', { inet: { input: 0x10001, output: 0x10002 }, inet6: { input: 0x20001, output: null } }]]);
  t.same(fw.lo0, { inet: 0x10003, inet6: 0x20002 }, 'lo0 is the box, not an interface');
  t.same(plain(c.routingInstances), [['isp2', { name: 'isp2', type: 'virtual-router', tableId: 100 }]]);
  t.same(plain(fw.prefixLists.get('blocked')), [{ family: 'inet', words: [0xc0000280], length: 25 }]);
  t.same(compiled('set routing-instances fbf instance-type forwarding table-id 4000000000').routingInstances.get('fbf'), { name: 'fbf', type: 'forwarding', tableId: 4000000000 });
  const bare = compiled('');
  t.same(plain(bare.firewall), { filters: [], prefixLists: [], interfaces: [], lo0: { inet: null, inet6: null }, policers: [] });
  t.same(bare.routingInstances.size, 0);
});

t.test('filter and term names for events', async (t) => {
  const c = compiled(HIERARCHICAL);
  const names = new FilterNames(c.firewall);
  t.same([names.filterName(0x10001), names.filterName(0x20002), names.filterName(0x10004), names.filterName(0)], ['in4', 'protect-re', null, null]);
  t.same([names.termName(0x10001, 1), names.termName(0x10001, 6), names.termName(0x10001, 2), names.termName(0x10001, 0), names.termName(0x20001, 3)], ['ssh', 'udp-high', null, null, 'other'], 'inactive and implicit terms have no name');
  const resolver = configNameResolver(c, new Map());
  t.same([resolver.filter(0x10002), resolver.term(0x10002, 2), resolver.filter(7), resolver.term(0x10002, 9)], ['out4', 'rest', null, null], 'the event resolver resolves them');
});

t.test('tcp-flags expressions', async (t) => {
  const set = (expr: string): number[] => {
    const r = parseTcpFlags(expr);
    if (typeof r === 'string') throw new Error(r);
    return Array.from({ length: 64 }, (_, f) => f).filter((f) => tableHas(r.low, r.high, f));
  };
  const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32;
  t.ok(set('syn & !ack').includes(SYN) && !set('syn & !ack').includes(SYN | ACK), 'syn & !ack: SYN, not SYN-ACK');
  t.same(set('syn & !ack'), set('tcp-initial'));
  t.same(set('ack | rst'), set('tcp-established'));
  t.same(set('syn+!ack'), set('syn & !ack'), '+ is and');
  t.same(set('fin,rst'), set('fin | rst'), ', is or');
  t.same(set('!(syn | fin)'), set('!syn & !fin'), 'parentheses and not');
  t.same(set('syn | ack & rst'), set('syn | (ack & rst)'), 'and binds tighter than or');
  t.same(set('0x12'), set('syn & ack'), 'a hex value: all its bits');
  t.same(set('push & urgent'), set(`${'0x28'}`));
  t.same(set('!!syn'), set('syn'));
  t.equal(set('fin | !fin').length, 64);
  t.same(set('SYN'), set('syn'), 'case-insensitive');
  t.ok([FIN, SYN, RST, PSH, ACK, URG].every((b) => set('fin|syn|rst|push|ack|urgent').includes(b)));
  for (const [bad, message] of [
    ['', 'the expression is empty'],
    ['syn &', "expected a flag after '&'"],
    ['(syn', "missing ')'"],
    ['syn)', "unbalanced ')'"],
    ['syn ack', "expected an operator before 'ack'"],
    ['& syn', "expected a flag before '&'"],
    ['syn & ak', "unknown flag 'ak'; expected fin, syn, rst, push, ack, urgent, tcp-initial, tcp-established or a hexadecimal value"],
    ['0x40', "'0x40' is not a set of TCP flags: use bits of 0x3f (fin 0x01 ... urgent 0x20)"],
    ['syn ; ack', "unexpected character ';'"],
  ] as const) {
    t.equal(parseTcpFlags(bad), message, JSON.stringify(bad));
  }
});

function errors(text: string): string[] {
  const r = compileText(text, 'e.conf');
  return r.ok ? [] : r.errors.map(String);
}

/** Zone z with eth0, so attachments are accepted. */
const ZONE = 'set security zones security-zone z interfaces eth0\n';
/** `set firewall family inet filter f term t ` — 41 characters, so the first word after it is at column 42. */
const T4 = 'set firewall family inet filter f term t ';
/** The same for inet6: the first word after it is at column 43. */
const T6 = 'set firewall family inet6 filter f term t ';

t.test('errors carry file:line:column', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    // Attachments
    ['unknown filter on an interface', `${ZONE}set interfaces eth0 unit 0 family inet filter input nope`, ["e.conf:2:53: unknown family inet filter 'nope'; define it with 'firewall family inet filter nope'"]],
    [
      'filter of the other family',
      `${ZONE}${T6}then accept\nset interfaces eth0 unit 0 family inet filter output f`,
      ["e.conf:3:54: unknown family inet filter 'f' (there is a family inet6 filter 'f')"],
    ],
    ['inactive filter', `${ZONE}set firewall family inet inactive: filter f term t then accept\nset interfaces eth0 unit 0 family inet filter input f`, ["e.conf:3:53: unknown family inet filter 'f' (it is inactive)"]],
    ['output filter on lo0', `${T4}then accept\nset interfaces lo0 unit 0 family inet filter output f`, ["e.conf:2:46: lo0 takes only an input filter: it filters traffic to the box itself, and the box's own traffic is not filtered"]],
    [
      'interface in no zone',
      `${T4}then accept\nset interfaces eth9 unit 0 family inet filter input f`,
      ["e.conf:2:53: interface 'eth9' is in no security zone, so xdpfw never sees its traffic and its input filter would never run; add it to a zone"],
    ],
    [
      'routing-instance filter as an output filter',
      `${ZONE}set routing-instances r instance-type virtual-router table-id 10\n${T4}then routing-instance r\nset interfaces eth0 unit 0 family inet filter output f`,
      ["e.conf:4:54: filter 'f' cannot be an output filter: its term 't' sends flows to routing instance 'r', which only an interface's input filter can do (before the route lookup)"],
    ],
    [
      'routing-instance filter on lo0',
      `set routing-instances r instance-type virtual-router table-id 10\n${T4}then routing-instance r\nset interfaces lo0 unit 0 family inet filter input f`,
      ["e.conf:3:52: filter 'f' cannot be the lo0 filter: its term 't' sends flows to routing instance 'r', which only an interface's input filter can do (before the route lookup)"],
    ],
    // References
    ['unknown prefix list', `${T4}from source-prefix-list nope`, ["e.conf:1:66: unknown prefix-list 'nope': define it with 'policy-options prefix-list nope'"]],
    [
      'prefix list without prefixes of the family',
      `set policy-options prefix-list v6 2001:db8::/32\n${T4}from destination-prefix-list v6`,
      ["e.conf:2:71: term 't' of filter 'f' can never match: prefix-list 'v6' has no IPv4 prefixes (filter 'f' is family inet)"],
    ],
    [
      'unknown routing instance',
      `${T4}then routing-instance nope`,
      ["e.conf:1:64: unknown routing instance 'nope': define it with 'routing-instances nope { instance-type virtual-router; table-id N; }'"],
    ],
    // Routing instances
    [
      'routing instance without table-id',
      'set routing-instances r instance-type virtual-router\nset firewall family inet filter f term t then routing-instance r',
      ["e.conf:1:23: routing instance 'r' needs 'table-id N': the kernel routing table that holds its routes"],
    ],
    ['routing instance without instance-type', 'set routing-instances r table-id 7', ["e.conf:1:23: routing instance 'r' needs 'instance-type virtual-router'"]],
    ['unsupported instance-type', 'set routing-instances r instance-type vrf table-id 7', ["e.conf:1:39: unsupported instance-type 'vrf': xdpfw supports virtual-router and forwarding (a kernel routing table)"]],
    ['kernel table', 'set routing-instances r instance-type virtual-router table-id 254', ["e.conf:1:63: table-id 254 is the kernel's 'main' table; a routing instance needs a table of its own"]],
    ['table id out of range', 'set routing-instances r instance-type virtual-router table-id 4294967296', ["e.conf:1:63: invalid table-id '4294967296': expected a number from 1 to 4294967295"]],
    [
      'shared table',
      'set routing-instances r instance-type virtual-router table-id 7\nset routing-instances s instance-type virtual-router table-id 7',
      ["e.conf:2:63: table-id 7 is already the table of routing instance 'r' (line 1, column 63)"],
    ],
    [
      'routing-options',
      'routing-instances { r { instance-type virtual-router; table-id 7; routing-options { static { route 0.0.0.0/0 next-hop 192.0.2.1; } } } }',
      ["e.conf:1:67: 'routing-options' in routing instance 'r' is not supported: xdpfw configures no routes; add them to the instance's kernel table (ip route add ... table N, with N its table-id)"],
    ],
    ['duplicate routing instance', 'routing-instances { r { table-id 7; instance-type forwarding; } r { table-id 8; } }', ["e.conf:1:65: duplicate routing-instance 'r' (first defined at line 1, column 21)"]],
    // Addresses
    ['IPv6 prefix in an inet filter', `${T4}from source-address 2001:db8::/32`, ["e.conf:1:62: '2001:db8::/32' is an IPv6 prefix; filter 'f' is family inet (use a family inet6 filter for it)"]],
    ['IPv4 prefix in an inet6 filter', `${T6}from destination-address 10.0.0.0/8`, ["e.conf:1:68: '10.0.0.0/8' is an IPv4 prefix; filter 'f' is family inet6 (use a family inet filter for it)"]],
    ['bad prefix', `${T4}from source-address 10.0.0.1/8`, ["e.conf:1:62: '10.0.0.1/8' has address bits set beyond the /8 prefix length"]],
    ['bad prefix in a prefix list', 'set policy-options prefix-list l 300.0.0.0/8', ["e.conf:1:34: '300.0.0.0/8' is not an IPv4 or IPv6 prefix"]],
    [
      'the same prefix twice',
      `${T6}from source-address 2001:db8::/32\n${T6}from source-address 2001:DB8::/32`,
      ["e.conf:2:63: prefix '2001:DB8::/32' repeats '2001:db8::/32' at line 1, column 63"],
    ],
    ['a prefix and its except', `${T4}from source-address 10.0.0.0/8\n${T4}from source-address 10.0.0.0/8 except`, ["e.conf:2:62: '10.0.0.0/8 except' conflicts with '10.0.0.0/8' at line 1, column 62"]],
    [
      'only except prefixes',
      `${T4}from source-address 10.0.0.0/8 except`,
      ["e.conf:1:47: term 't' of filter 'f' can never match: every 'source-address' prefix is 'except' (a prefix list ends in an implicit '0.0.0.0/0 except'); add '0.0.0.0/0' to match the rest"],
    ],
    // Numbers
    ['bad port range', `${T4}from protocol tcp destination-port 2000-1000`, ["e.conf:1:77: invalid port range '2000-1000': 2000 is above 1000"]],
    ['port out of range', `${T4}from protocol udp source-port [ 53 70000 ]`, ["e.conf:1:77: invalid port '70000': ports are 0-65535"]],
    ['unknown port name', `${T4}from destination-port htp`, ["e.conf:1:64: invalid port 'htp': expected a port 0-65535, a range like 1024-65535, or a port name such as http"]],
    ['unknown protocol', `${T4}from protocol tpc`, ["e.conf:1:56: unknown protocol 'tpc': expected icmp, igmp, ipip, tcp, egp, udp, rsvp, gre, esp, ah, ospf, pim, vrrp, sctp or a number 0-255"]],
    ['icmp in inet6', `${T6}from next-header icmp`, ["e.conf:1:60: 'icmp' is ICMP for IPv4; family inet6 filters match ICMPv6 as 'icmp6'"]],
    ['icmp6 in inet', `${T4}from protocol icmp6`, ["e.conf:1:56: 'icmp6' is ICMPv6; family inet filters match ICMP as 'icmp'"]],
    ['next-header in inet', `${T4}from next-header tcp`, ["e.conf:1:47: 'next-header' is a family inet6 condition; family inet filters use 'protocol'"]],
    ['traffic-class in inet', `${T4}from traffic-class ef`, ["e.conf:1:47: 'traffic-class' is a family inet6 condition; family inet filters use 'dscp'"]],
    ['next-header and protocol', `${T6}from next-header tcp\n${T6}from protocol udp`, ["e.conf:2:48: 'protocol' repeats 'next-header' at line 1, column 48: they are the same condition, use one"]],
    [
      'ICMPv6 type name in inet',
      `${T4}from icmp-type neighbor-solicit`,
      ["e.conf:1:57: 'neighbor-solicit' is an ICMPv6 type; family inet filters match ICMP types such as echo-reply, unreachable, source-quench, redirect (or a number 0-255)"],
    ],
    [
      'ICMP type name in inet6',
      `${T6}from icmp-type unreachable`,
      ["e.conf:1:58: 'unreachable' is an ICMP (IPv4) type; family inet6 filters match ICMPv6 types such as destination-unreachable, packet-too-big, time-exceeded, parameter-problem (or a number 0-255)"],
    ],
    ['ICMP type out of range', `${T4}from icmp-type 256`, ["e.conf:1:57: invalid ICMP type '256': ICMP types are 0-255"]],
    ['ICMP code name', `${T4}from icmp-code nowhere`, ["e.conf:1:57: unknown ICMP code 'nowhere': expected a number 0-255 or a name such as network-unreachable, host-unreachable, protocol-unreachable, port-unreachable"]],
    ['ICMPv6 code name of ICMP', `${T6}from icmp-code host-unreachable`, ["e.conf:1:58: 'host-unreachable' is an ICMP (IPv4) code; family inet6 filters match ICMPv6 codes such as no-route-to-destination, administratively-prohibited, address-unreachable, port-unreachable (or a number 0-255)"]],
    ['unknown ICMPv6 type', `${T6}from icmp-type ping`, ["e.conf:1:58: unknown ICMPv6 type 'ping': expected a number 0-255 or a name such as destination-unreachable, packet-too-big, time-exceeded, parameter-problem, private-experimentation-100, private-experimentation-101"]],
    ['DSCP out of range', `${T4}from dscp 64`, ["e.conf:1:52: invalid DSCP value '64': DSCP values are 0-63"]],
    ['packet length out of range', `${T4}from packet-length 70000`, ["e.conf:1:61: invalid packet length '70000': packet lengths are 0-65535"]],
    ['packet length range backwards', `${T4}from packet-length 1500-1000`, ["e.conf:1:61: invalid packet length range '1500-1000': 1500 is above 1000"]],
    ['packet length word', `${T4}from packet-length jumbo`, ["e.conf:1:61: invalid packet length 'jumbo': expected a length in bytes 0-65535 or a range like 0-1280"]],
    ['DSCP name', `${T4}from dscp af44`, ["e.conf:1:52: unknown DSCP value 'af44': expected a number 0-63 or a name: be, cs0-cs7, af11-af13, af21-af23, af31-af33, af41-af43, ef"]],
    // tcp-flags
    ['bad tcp-flags expression', `${T4}from tcp-flags "syn & !ak"`, ["e.conf:1:57: invalid tcp-flags expression 'syn & !ak': unknown flag 'ak'; expected fin, syn, rst, push, ack, urgent, tcp-initial, tcp-established or a hexadecimal value"]],
    ['unbalanced tcp-flags expression', `${T4}from tcp-flags "(syn|fin"`, ["e.conf:1:57: invalid tcp-flags expression '(syn|fin': missing ')'"]],
    ['unsatisfiable tcp-flags', `${T4}from tcp-flags "syn & !syn"`, ["e.conf:1:57: term 't' of filter 'f' can never match: no TCP flags satisfy 'syn & !syn'"]],
    [
      'tcp-initial with tcp-flags ack',
      `${T4}from tcp-initial\n${T4}from tcp-flags ack`,
      ["e.conf:2:57: term 't' of filter 'f' can never match: no TCP flags satisfy 'tcp-initial' and 'ack'"],
    ],
    // Conditions that exclude each other
    ['ports of ICMP', `${T4}from protocol icmp destination-port 80`, ["e.conf:1:61: term 't' of filter 'f' can never match: 'destination-port' only matches tcp, udp or sctp packets and its protocol excludes them"]],
    ['icmp-type of TCP', `${T6}from next-header tcp icmp-type echo-request`, ["e.conf:1:64: term 't' of filter 'f' can never match: 'icmp-type' only matches icmp6 packets and its next-header excludes them"]],
    ['tcp-flags of UDP', `${T4}from protocol udp tcp-established`, ["e.conf:1:60: term 't' of filter 'f' can never match: 'tcp-established' only matches tcp packets and its protocol excludes them"]],
    ['ports of fragments', `${T4}from is-fragment source-port 53`, ["e.conf:1:59: term 't' of filter 'f' can never match: 'source-port' cannot match a non-first fragment ('is-fragment'), which has no transport header"]],
    // Actions and names
    ['two actions', `${T4}then accept\n${T4}then discard`, ["e.conf:2:47: 'discard' conflicts with 'accept' at line 1, column 47: a term takes one of accept, discard, reject and routing-instance"]],
    ['reject reason of the other family', `${T6}then reject host-prohibited`, ["e.conf:1:55: 'host-prohibited' is not a family inet6 reject reason; expected one of: tcp-reset, administratively-prohibited, no-route, address-unreachable, beyond-scope, port-unreachable"]],
    ['fragmentation-needed', `${T4}then reject fragmentation-needed`, ["e.conf:1:54: 'reject fragmentation-needed' is not supported: the reply would need the next-hop MTU"]],
    [
      'unknown reject reason',
      `${T4}then reject nicely`,
      ["e.conf:1:54: unknown statement 'nicely' in 'firewall family inet filter f term t then'; expected one of: accept, count, discard, log, policer, reject, routing-instance, syslog"],
    ],
    ['bad counter name', `${T4}then count "a b"`, ["e.conf:1:53: invalid counter name 'a b': use 1-63 printable characters without spaces, quotes, '#', ';', '[', ']', '{' or '}'"]],
    ['unknown term statement', `${T4}frm protocol tcp`, ["e.conf:1:42: unknown statement 'frm' in 'firewall family inet filter f term t'; expected one of: from, then"]],
    ['bad family', 'set firewall family inet4 filter f term t then accept', ["e.conf:1:21: invalid address family 'inet4' in 'firewall'; expected one of: inet, inet6"]],
    // Duplicates
    [
      'duplicate term',
      'firewall {\n    family inet {\n        filter f {\n            term a { then accept; }\n            term a { then discard; }\n        }\n    }\n}',
      ["e.conf:5:13: duplicate term 'a' (first defined at line 4, column 13)"],
    ],
    [
      'duplicate filter',
      'firewall { family inet { filter f { term a { then accept; } } } }\nfirewall { family inet { filter f { term b { then accept; } } } }',
      ["e.conf:2:26: duplicate filter 'f' (first defined at line 1, column 26)"],
    ],
    ['duplicate prefix list', 'policy-options { prefix-list l { 10.0.0.0/8; } prefix-list l { 10.0.0.0/9; } }', ["e.conf:1:48: duplicate prefix-list 'l' (first defined at line 1, column 18)"]],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
});

t.test('every error is reported, each at its place', async (t) => {
  const text = [
    `${ZONE}${T4}from protocol tcp destination-port 99999`,
    `${T4}from source-prefix-list missing`,
    `${T4}then routing-instance gone`,
    'set interfaces eth0 unit 0 family inet6 filter input absent',
  ].join('\n');
  t.same(
    errors(text).map((e) => e.split(': ')[0]),
    ['e.conf:2:77', 'e.conf:3:66', 'e.conf:4:64', 'e.conf:5:54'],
  );
});

t.test('the firewall stanzas print and read back', async (t) => {
  const { tree, errors: errs } = readConfigTree(HIERARCHICAL, 'p.conf');
  t.same(errs, []);
  const again = readConfigTree(printSet(tree), 'again.conf');
  t.same(again.errors, []);
  t.equal(printHierarchical(again.tree), printHierarchical(tree));
  t.match(printHierarchical(tree), /tcp-flags "syn & !ack";/);
});

t.test('set lines with inactive statements inside a named block are not duplicate blocks', async (t) => {
  const text = [
    'set firewall family inet filter f inactive: term old from protocol tcp',
    'set firewall family inet filter f inactive: term old then discard',
    'set firewall family inet filter f term new then accept',
    'set firewall family inet filter f term new inactive: then log',
    'set firewall family inet filter f term new inactive: then syslog',
    'set policy-options prefix-list l 10.0.0.0/8',
    'set policy-options prefix-list l inactive: 10.1.0.0/16',
    'set policy-options prefix-list l inactive: 10.2.0.0/16',
    'set routing-instances r instance-type virtual-router table-id 7',
    'set routing-instances r inactive: description one',
    'set routing-instances r inactive: routing-options static route 0.0.0.0/0 next-hop 192.0.2.1',
  ].join('\n');
  const c = compiled(text);
  t.same(c.firewall.filters[0].terms.map((x) => [x.id, x.name, x.log, x.syslog]), [[2, 'new', false, false]]);
  t.same(c.firewall.prefixLists.get('l')?.length, 1);
  // The printed set form of such a configuration reads back.
  const printed = printSet(c.tree);
  t.match(printed, /filter f inactive: term old then discard/);
  t.same(tables(compiled(printed)), tables(c));
  // Blocks written by hand are still definitions.
  t.same(errors('firewall { family inet { filter f { inactive: term a { then accept; } } filter f { term b { then accept; } } } }'), [
    "e.conf:1:73: duplicate filter 'f' (first defined at line 1, column 26)",
  ]);
});
