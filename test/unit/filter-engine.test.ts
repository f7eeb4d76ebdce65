import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { FILTER_REJECT_REASONS, type FilterRejectReason } from '../../lib/config/filters.js';
import type { CompiledConfig, Family } from '../../lib/config/types.js';
import {
  decodeFilterDescriptor,
  encodeFilterDescriptor,
  FILTER_ACTION_CODE,
  FILTER_DESCRIPTOR_SIZE,
  FILTER_FLAG_LOG,
  FILTER_FLAG_SYSLOG,
  filterActionName,
  NO_FILTER,
} from '../../lib/filter/descriptor.js';
import { FilterEngine, type FilterEngineOptions, type FilterQuery, type FilterResult } from '../../lib/filter/engine.js';
import type { RejectReason } from '../../lib/slowpath/reject.js';

// Every filter reject reason is one the slow path's reject builder takes.
const sameReasons: (r: FilterRejectReason) => RejectReason = (r) => r;
void sameReasons;

function compiled(text: string): CompiledConfig {
  const r = compileText(text, 'e.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function v4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

function v6(s: string): Uint8Array {
  const [head, tail = ''] = s.split('::');
  const groups = (x: string): number[] => (x ? x.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const tl = groups(tail);
  const all = s.includes('::') ? [...h, ...new Array<number>(8 - h.length - tl.length).fill(0), ...tl] : h;
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

const TCP = 6, UDP = 17, ICMP = 1, ICMP6 = 58, GRE = 47;
const SYN = 0x02, ACK = 0x10, RST = 0x04, FIN = 0x01;

function q4(o: Partial<FilterQuery> = {}): FilterQuery {
  return { family: 'inet', protocol: TCP, source: v4('198.51.100.1'), destination: v4('192.0.2.1'), sourcePort: 40000, destinationPort: 80, icmpType: 0, icmpCode: 0, tcpFlags: SYN, isFragment: false, dscp: 0, ...o };
}

function q6(o: Partial<FilterQuery> = {}): FilterQuery {
  return { ...q4(), family: 'inet6', source: v6('2001:db8::1'), destination: v6('2001:db8:1::1'), ...o };
}

/** Filter f of `family` from `set ... term ...` lines written after `set firewall family F filter f term `. */
function engine(family: Family, lines: string[], extra = '', opts: FilterEngineOptions = {}): { e: FilterEngine; id: number; cfg: CompiledConfig } {
  const cfg = compiled(extra + lines.map((l) => `set firewall family ${family} filter f term ${l}`).join('\n'));
  const f = cfg.firewall.filters.find((x) => x.name === 'f' && x.family === family)!;
  return { e: new FilterEngine(cfg, opts), id: f.id, cfg };
}

/** Every engine shape: scanning in order, and through the term index with longest-prefix tables. */
const SHAPES: Array<[string, FilterEngineOptions]> = [
  ['scan', {}],
  ['indexed', { indexThreshold: 0, linearPrefixes: 0 }],
];

function verdict(r: FilterResult): string {
  return r.termId === 0 ? 'implicit-discard' : `${r.term}:${r.action}`;
}

t.test('first matching term wins; no match is discarded', async (t) => {
  for (const [shape, opts] of SHAPES) {
    const { e, id } = engine('inet', ['web from protocol tcp destination-port 80', 'web then accept', 'all-tcp from protocol tcp', 'all-tcp then discard', 'web2 from destination-port 80', 'web2 then accept'], '', opts);
    t.equal(verdict(e.evaluate(id, q4())), 'web:accept', `${shape}: the first term`);
    t.equal(verdict(e.evaluate(id, q4({ destinationPort: 443 }))), 'all-tcp:discard', `${shape}: the second`);
    t.equal(verdict(e.evaluate(id, q4({ protocol: UDP }))), 'web2:accept', `${shape}: a later term`);
    const none = e.evaluate(id, q4({ protocol: UDP, destinationPort: 53 }));
    t.same(
      [none.termId, none.term, none.action, none.log, none.counter, none.rejectReason, none.routingInstance, none.filter],
      [0, null, 'discard', false, null, null, null, 'f'],
      `${shape}: the implicit discard`,
    );
    t.same(none.descriptor, { filterId: id, termId: 0, counter: 0, tableId: 0, action: FILTER_ACTION_CODE.discard, flags: 0, rejectReason: 0, program: 0 });
  }
  const empty = compiled('set firewall family inet filter f inactive: term t then accept');
  const e = new FilterEngine(empty);
  t.equal(e.evaluate(0x10001, q4()).termId, 0, 'a filter without active terms discards everything');
});

t.test('results are prebuilt: a lookup allocates nothing', async (t) => {
  const { e, id } = engine('inet', ['a from protocol tcp', 'a then accept']);
  const a = e.evaluate(id, q4());
  t.equal(e.evaluate(id, q4({ sourcePort: 1 })), a, 'the same object');
  t.equal(e.evaluate(id, q4({ protocol: UDP })), e.evaluate(id, q4({ protocol: GRE })));
  t.ok(Object.isFrozen(a) && Object.isFrozen(a.descriptor));
  t.equal(e.result(id, 1), a);
  t.equal(e.result(id, 0)?.termId, 0);
  t.equal(e.result(id, 5), null);
  t.equal(e.result(0x10009, 1), null);
});

t.test('addresses: longest prefix decides, except excludes', async (t) => {
  for (const [shape, opts] of SHAPES) {
    const { e, id } = engine(
      'inet',
      [
        'nets from source-address 10.0.0.0/8',
        'nets from source-address 10.1.0.0/16 except',
        'nets from source-address 10.1.2.0/24',
        'nets from source-address 10.1.2.3/32 except',
        'nets then accept',
        'all-but from destination-address 0.0.0.0/0',
        'all-but from destination-address 192.0.2.0/24 except',
        'all-but then reject',
      ],
      '',
      opts,
    );
    const at = (src: string, dst = '192.0.2.9'): string => verdict(e.evaluate(id, q4({ source: v4(src), destination: v4(dst) })));
    t.equal(at('10.200.0.1'), 'nets:accept', `${shape}: in 10/8`);
    t.equal(at('10.1.9.9'), 'implicit-discard', `${shape}: in the excepted 10.1/16`);
    t.equal(at('10.1.2.200'), 'nets:accept', `${shape}: in 10.1.2/24 within the except`);
    t.equal(at('10.1.2.3'), 'implicit-discard', `${shape}: the excepted host`);
    t.equal(at('11.0.0.1'), 'implicit-discard', `${shape}: outside every prefix (the implicit 0/0 except)`);
    t.equal(at('11.0.0.1', '203.0.113.1'), 'all-but:reject', `${shape}: 0/0 with an except`);
    t.equal(at('10.1.9.9', '192.0.2.200'), 'implicit-discard', `${shape}: the excepted destination`);
  }
});

t.test('prefix lists, mixed families, except lists', async (t) => {
  const lists = [
    'set policy-options prefix-list mgmt 192.0.2.0/24',
    'set policy-options prefix-list mgmt 2001:db8:aa::/48',
    'set policy-options prefix-list bad 192.0.2.66',
    'set policy-options prefix-list bad 2001:db8:aa::66',
    'set policy-options prefix-list lab 203.0.113.0/24',
    'set policy-options prefix-list hosts 192.0.2.66',
    '',
  ].join('\n');
  for (const [shape, opts] of SHAPES) {
    const four = engine('inet', ['m from source-prefix-list mgmt', 'm from source-prefix-list hosts', 'm from source-prefix-list bad except', 'm then accept', 'not-lab from destination-prefix-list lab except', 'not-lab then discard'], lists, opts);
    const at = (src: string, dst: string): string => verdict(four.e.evaluate(four.id, q4({ source: v4(src), destination: v4(dst) })));
    t.equal(at('192.0.2.10', '203.0.113.1'), 'm:accept', `${shape}: in mgmt`);
    t.equal(at('192.0.2.66', '203.0.113.1'), 'implicit-discard', `${shape}: listed and excepted: excepted`);
    t.equal(at('198.51.100.1', '192.0.2.1'), 'not-lab:discard', `${shape}: an except-only list matches the rest`);
    t.equal(at('198.51.100.1', '203.0.113.7'), 'implicit-discard', `${shape}: but not the list`);
    const six = engine('inet6', ['m from source-prefix-list mgmt', 'm from source-prefix-list bad except', 'm then accept'], lists, opts);
    const at6 = (src: string): string => verdict(six.e.evaluate(six.id, q6({ source: v6(src) })));
    t.equal(at6('2001:db8:aa::1'), 'm:accept', `${shape}: the IPv6 prefixes of a mixed list`);
    t.equal(at6('2001:db8:aa::66'), 'implicit-discard', `${shape}: IPv6 except`);
    t.equal(at6('2001:db8:bb::1'), 'implicit-discard', shape);
  }
  // source-address and source-prefix-list are two conditions: both must match.
  const both = engine('inet', ['b from source-address 192.0.2.0/25', 'b from source-prefix-list mgmt', 'b then accept'], lists);
  t.equal(verdict(both.e.evaluate(both.id, q4({ source: v4('192.0.2.5') }))), 'b:accept');
  t.equal(verdict(both.e.evaluate(both.id, q4({ source: v4('192.0.2.200') }))), 'implicit-discard');
});

t.test('ports: names, ranges, only for TCP, UDP and SCTP', async (t) => {
  for (const [shape, opts] of SHAPES) {
    const { e, id } = engine('inet', ['p from destination-port [ ssh https 8000-8080 ]', 'p from source-port 1024-65535', 'p then accept'], '', opts);
    const at = (o: Partial<FilterQuery>): string => verdict(e.evaluate(id, q4(o)));
    t.equal(at({ destinationPort: 22 }), 'p:accept', `${shape}: ssh`);
    t.equal(at({ destinationPort: 443, protocol: UDP }), 'p:accept', `${shape}: https over UDP`);
    t.equal(at({ destinationPort: 8080, protocol: 132 }), 'p:accept', `${shape}: SCTP, range end`);
    t.equal(at({ destinationPort: 8000 }), 'p:accept', `${shape}: range start`);
    t.equal(at({ destinationPort: 8081 }), 'implicit-discard', `${shape}: past the range`);
    t.equal(at({ destinationPort: 22, sourcePort: 1023 }), 'implicit-discard', `${shape}: source port below the range`);
    t.equal(at({ destinationPort: 22, protocol: GRE }), 'implicit-discard', `${shape}: GRE has no ports`);
    t.equal(at({ destinationPort: 22, isFragment: true }), 'implicit-discard', `${shape}: a non-first fragment has no ports`);
  }
});

t.test('ICMP types by name, codes, ICMPv6 numbering', async (t) => {
  for (const [shape, opts] of SHAPES) {
    const four = engine('inet', ['ping from icmp-type [ echo-request echo-reply ]', 'ping then accept', 'frag-needed from icmp-type unreachable icmp-code fragmentation-needed', 'frag-needed then accept'], '', opts);
    const at = (o: Partial<FilterQuery>): string => verdict(four.e.evaluate(four.id, q4({ protocol: ICMP, ...o })));
    t.equal(at({ icmpType: 8 }), 'ping:accept', `${shape}: echo-request`);
    t.equal(at({ icmpType: 0 }), 'ping:accept', `${shape}: echo-reply`);
    t.equal(at({ icmpType: 3, icmpCode: 4 }), 'frag-needed:accept', `${shape}: type and code`);
    t.equal(at({ icmpType: 3, icmpCode: 3 }), 'implicit-discard', `${shape}: other code`);
    t.equal(at({ icmpType: 13 }), 'implicit-discard', `${shape}: timestamp`);
    t.equal(at({ icmpType: 8, protocol: ICMP6 }), 'implicit-discard', `${shape}: ICMPv6 is not ICMP`);
    t.equal(at({ icmpType: 8, protocol: TCP }), 'implicit-discard', `${shape}: TCP has no ICMP type`);
    t.equal(at({ icmpType: 8, isFragment: true }), 'implicit-discard', `${shape}: nor a fragment`);
    const six = engine('inet6', ['nd from icmp-type [ neighbor-solicit neighbor-advertisement ]', 'nd then accept', 'echo from icmp-type echo-request', 'echo then accept'], '', opts);
    const at6 = (o: Partial<FilterQuery>): string => verdict(six.e.evaluate(six.id, q6({ protocol: ICMP6, ...o })));
    t.equal(at6({ icmpType: 135 }), 'nd:accept', `${shape}: neighbor-solicit`);
    t.equal(at6({ icmpType: 128 }), 'echo:accept', `${shape}: ICMPv6 echo-request is 128`);
    t.equal(at6({ icmpType: 8 }), 'implicit-discard', `${shape}: 8 is not an ICMPv6 echo`);
    t.equal(at6({ icmpType: 128, protocol: ICMP }), 'implicit-discard', `${shape}: ICMP in IPv6 is not ICMPv6`);
  }
});

t.test('tcp-flags expressions and shorthands', async (t) => {
  for (const [shape, opts] of SHAPES) {
    const { e, id } = engine(
      'inet',
      ['syn from tcp-flags "syn & !ack"', 'syn then accept', 'est from tcp-established', 'est then count est', 'fin from tcp-flags "(fin|rst) & !syn"', 'fin then discard'],
      '',
      opts,
    );
    const at = (flags: number, protocol = TCP): string => verdict(e.evaluate(id, q4({ tcpFlags: flags, protocol })));
    t.equal(at(SYN), 'syn:accept', `${shape}: a SYN`);
    t.equal(at(SYN | ACK), 'est:accept', `${shape}: a SYN-ACK is not syn & !ack`);
    t.equal(at(ACK), 'est:accept', shape);
    t.equal(at(RST), 'est:accept', `${shape}: tcp-established is ack | rst`);
    t.equal(at(FIN), 'fin:discard', shape);
    t.equal(at(0), 'implicit-discard', `${shape}: no flags`);
    t.equal(at(SYN | 0xc0), 'syn:accept', `${shape}: ECE and CWR are not matched on`);
    t.equal(at(SYN, UDP), 'implicit-discard', `${shape}: only TCP has flags`);
    const init = engine('inet', ['i from tcp-initial', 'i then accept'], '', opts);
    t.equal(verdict(init.e.evaluate(init.id, q4({ tcpFlags: SYN }))), 'i:accept', `${shape}: tcp-initial`);
    t.equal(verdict(init.e.evaluate(init.id, q4({ tcpFlags: SYN | ACK }))), 'implicit-discard', shape);
  }
});

t.test('is-fragment, dscp and protocol', async (t) => {
  for (const [shape, opts] of SHAPES) {
    const { e, id } = engine('inet', ['frag from is-fragment', 'frag then discard', 'voice from dscp [ ef af41 ]', 'voice from protocol [ udp 50-51 ]', 'voice then accept'], '', opts);
    const at = (o: Partial<FilterQuery>): string => verdict(e.evaluate(id, q4(o)));
    t.equal(at({ isFragment: true, dscp: 46, protocol: UDP }), 'frag:discard', `${shape}: a fragment`);
    t.equal(at({ dscp: 46, protocol: UDP }), 'voice:accept', `${shape}: ef`);
    t.equal(at({ dscp: 34, protocol: 50 }), 'voice:accept', `${shape}: af41, esp in a protocol range`);
    t.equal(at({ dscp: 34, protocol: TCP }), 'implicit-discard', `${shape}: protocol not listed`);
    t.equal(at({ dscp: 0, protocol: UDP }), 'implicit-discard', `${shape}: best effort`);
  }
});

t.test('IPv6 filters', async (t) => {
  for (const [shape, opts] of SHAPES) {
    const { e, id } = engine(
      'inet6',
      [
        'web from destination-address 2001:db8:1::/48',
        'web from destination-address 2001:db8:1:ff::/64 except',
        'web from next-header tcp destination-port https',
        'web then accept',
        'dns from protocol udp destination-port domain',
        'dns from source-address ::/0',
        'dns then reject',
      ],
      '',
      opts,
    );
    const at = (o: Partial<FilterQuery>): string => verdict(e.evaluate(id, q6(o)));
    t.equal(at({ destinationPort: 443 }), 'web:accept', shape);
    t.equal(at({ destinationPort: 443, destination: v6('2001:db8:1:ff::5') }), 'implicit-discard', `${shape}: excepted /64`);
    t.equal(at({ destinationPort: 443, destination: v6('2001:db8:2::1') }), 'implicit-discard', shape);
    t.equal(at({ destinationPort: 53, protocol: UDP }), 'dns:reject', shape);
  }
});

t.test('actions: reject reasons, log, syslog, routing-instance, in the descriptor', async (t) => {
  const { e, id } = engine(
    'inet',
    [
      'a from destination-port 1',
      'a then reject',
      'b from destination-port 2',
      'b then reject host-prohibited',
      'b then log',
      'c from destination-port 3',
      'c then syslog',
      'c then log',
      'c then discard',
      'd from destination-port 4',
      'd then routing-instance isp2',
      'd then count pbr',
    ],
    'set routing-instances isp2 instance-type virtual-router table-id 100\n',
  );
  const at = (port: number): FilterResult => e.evaluate(id, q4({ destinationPort: port }));
  const a = at(1);
  t.same([a.action, a.rejectReason, a.log, a.syslog], ['reject', 'tcp-reset', false, false], 'bare reject: tcp-reset');
  t.same(a.descriptor, { filterId: id, termId: 1, counter: 0, tableId: 0, action: FILTER_ACTION_CODE.reject, flags: 0, rejectReason: 0, program: 0 });
  const b = at(2);
  t.same([b.action, b.rejectReason, b.log], ['reject', 'host-prohibited', true]);
  t.same([b.descriptor.rejectReason, FILTER_REJECT_REASONS[b.descriptor.rejectReason], b.descriptor.flags], [11, 'host-prohibited', FILTER_FLAG_LOG]);
  const c = at(3);
  t.same([c.action, c.log, c.syslog, c.descriptor.flags, c.descriptor.action], ['discard', true, true, FILTER_FLAG_LOG | FILTER_FLAG_SYSLOG, FILTER_ACTION_CODE.discard]);
  const d = at(4);
  t.same([d.action, d.routingInstance, d.routingInstanceName, d.counter], ['accept', 100, 'isp2', 'pbr'], 'routing-instance accepts through table 100');
  t.same(d.descriptor, { filterId: id, termId: 4, counter: 1, tableId: 100, action: FILTER_ACTION_CODE.accept, flags: 0, rejectReason: 0, program: 0 });
});

t.test('counters: per filter and name, counted by evaluate, not by lookup', async (t) => {
  const cfg = compiled(
    [
      'set firewall family inet filter f term a from destination-port 1',
      'set firewall family inet filter f term a then count shared',
      'set firewall family inet filter f term b from destination-port 2',
      'set firewall family inet filter f term b then count shared discard',
      'set firewall family inet filter f term c then count rest',
      'set firewall family inet6 filter f term a then count shared',
      'set firewall family inet filter g term a then count shared',
    ].join('\n'),
  );
  const e = new FilterEngine(cfg);
  const [f4, g4, f6] = [0x10001, 0x10002, 0x20001];
  for (let i = 0; i < 3; i++) e.evaluate(f4, q4({ destinationPort: 1, length: 100 }));
  e.evaluate(f4, q4({ destinationPort: 2, length: 40 }));
  e.evaluate(f4, q4({ destinationPort: 9 }));
  e.lookup(f4, q4({ destinationPort: 9, length: 1000 }));
  e.evaluate(f6, q6({ length: 60 }));
  const counts = e.counts().map((c) => [c.index, c.filterId, c.family, c.counter, c.terms, c.packets, c.bytes]);
  t.same(counts, [
    [1, f4, 'inet', 'shared', [1, 2], 4, 340],
    [2, f4, 'inet', 'rest', [3], 1, 0],
    [3, g4, 'inet', 'shared', [1], 0, 0],
    [4, f6, 'inet6', 'shared', [1], 1, 60],
  ]);
  t.same([e.hits(f4, 1), e.hits(f4, 2), e.hits(f4, 3), e.hits(f4, 0), e.hits(g4, 1), e.hits(0x10009, 1)], [3, 1, 1, 0, 0, 0], 'hits per term; lookups do not count');
  t.equal(e.evaluate(f4, q4({ destinationPort: 2 })).descriptor.counter, 1, 'terms sharing a counter share its index');
  e.addCounts(3, 10, 1500);
  e.addCounts(0, 1, 1);
  e.addCounts(99, 1, 1);
  t.same(e.counts()[2].packets, 10, 'the fast path adds to a counter by index');

  // A reload keeps the totals of the counters it keeps.
  const next = new FilterEngine(
    compiled(
      [
        'set firewall family inet filter f term a from destination-port 1',
        'set firewall family inet filter f term a then count shared',
        'set firewall family inet filter f term c then count other',
        'set firewall family inet filter g term a then count shared',
      ].join('\n'),
    ),
  );
  next.carryCountsFrom(e);
  t.same(
    next.counts().map((c) => [c.filterId, c.counter, c.packets, c.bytes]),
    [
      [f4, 'shared', 5, 340],
      [f4, 'other', 0, 0],
      [g4, 'shared', 10, 1500],
    ],
  );
  t.equal(next.hits(f4, 1), 3, 'hits of a term with the same id and name carry over');
});

t.test('filters without implicit-discard surprises: an empty term accepts everything', async (t) => {
  const { e, id } = engine('inet', ['all then count c']);
  t.equal(verdict(e.evaluate(id, q4({ protocol: GRE }))), 'all:accept');
});

t.test('names, ids and bad queries', async (t) => {
  const { e, id } = engine('inet', ['x then accept', 'y then discard'], 'set firewall family inet6 filter f term z then accept\n');
  t.same([e.filterName(id), e.termName(id, 2), e.termName(id, 0), e.filterName(0x20001), e.termName(0x20001, 1), e.filterName(0x10002)], ['f', 'y', null, 'f', 'z', null]);
  t.ok(e.has(id) && e.has(0x20001) && !e.has(0));
  t.throws(() => e.evaluate(0x10002, q4()), RangeError, 'unknown filter id');
  t.throws(() => e.evaluate(id, q6()), RangeError, 'family mismatch');
  t.throws(() => e.evaluate(id, q4({ source: v6('::1') })), RangeError, 'address length');
});

t.test('the cached descriptor encodes to the C layout', async (t) => {
  t.equal(FILTER_DESCRIPTOR_SIZE, 20);
  const d = { filterId: 0x20003, termId: 0x1234, counter: 7, tableId: 0xfffffffe, action: FILTER_ACTION_CODE.reject, flags: FILTER_FLAG_LOG | FILTER_FLAG_SYSLOG, rejectReason: 5, program: 0x0102 };
  const buf = new Uint8Array(24).fill(0xaa);
  encodeFilterDescriptor(d, buf, 2);
  t.same(Array.from(buf), [0xaa, 0xaa, 0x03, 0x00, 0x02, 0x00, 0x34, 0x12, 0x07, 0x00, 0xfe, 0xff, 0xff, 0xff, 3, 3, 5, 0, 0x02, 0x01, 0, 0, 0xaa, 0xaa]);
  t.same(decodeFilterDescriptor(buf, 2), d);
  t.same(decodeFilterDescriptor(new Uint8Array(20)), NO_FILTER, 'all zero: no filter');
  t.throws(() => encodeFilterDescriptor(d, new Uint8Array(20), 1), RangeError);
  t.same([filterActionName(1), filterActionName(2), filterActionName(3), filterActionName(0)], ['accept', 'discard', 'reject', null]);
});
