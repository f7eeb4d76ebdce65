// Junos filter conditions and actions beyond the basics: filters without a family, `port`,
// `ttl` / `hop-limit`, `fragment-offset`, non-contiguous masks, `except`, policers; and the
// applications side: multi-term applications, `inactivity-timeout`, sets of sets with `any`.
// Config compile results and the slow path's engine verdicts (what a first packet gets).
import t from 'tap';
import { compileText, readConfigTree } from '../../lib/config/compile.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';
import type { CompiledConfig, Family } from '../../lib/config/types.js';
import { FilterEngine, type FilterQuery } from '../../lib/filter/engine.js';
import { encodeResidual, hasPerPacketTerms, TERM_TTL } from '../../lib/filter/residual.js';
import { FILTER_PROGRAM, FILTER_TERM } from '../../lib/dataplane/layout.js';
import { PolicyEngine } from '../../lib/policy/engine.js';

function compiled(text: string): CompiledConfig {
  const r = compileText(text, 'j.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function errors(text: string): string[] {
  const r = compileText(text, 'e.conf');
  return r.ok ? [] : r.errors.map(String);
}

const v4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));
const TCP = 6, UDP = 17, ICMP = 1;

function q4(o: Partial<FilterQuery> = {}): FilterQuery {
  return { family: 'inet', protocol: TCP, source: v4('198.51.100.1'), destination: v4('192.0.2.1'), sourcePort: 40000, destinationPort: 80, icmpType: 0, icmpCode: 0, tcpFlags: 0x10, isFragment: false, dscp: 0, ttl: 64, length: 100, ...o };
}

function filter(family: Family, name: string, text: string): { e: FilterEngine; id: number; cfg: CompiledConfig } {
  const cfg = compiled(text);
  const f = cfg.firewall.filters.find((x) => x.name === name && x.family === family);
  if (!f) throw new Error(`no filter ${name}`);
  return { e: new FilterEngine(cfg), id: f.id, cfg };
}

const verdict = (e: FilterEngine, id: number, q: FilterQuery): string => {
  const r = e.evaluate(id, q);
  return r.termId === 0 ? 'implicit-discard' : `${r.term}:${r.action}`;
};

t.test('firewall filter without family is family inet', async (t) => {
  const hier = `firewall { filter protect { term ssh { from { protocol tcp; port ssh; } then accept; } } }
interfaces { lo0 { unit 0 { family inet { filter { input protect; } } } } }`;
  const set = ['set firewall filter protect term ssh from protocol tcp', 'set firewall filter protect term ssh from port ssh',
    'set firewall filter protect term ssh then accept', 'set interfaces lo0 unit 0 family inet filter input protect'].join('\n');
  for (const [form, text] of [['hierarchical', hier], ['set', set]] as const) {
    const c = compiled(text);
    const f = c.firewall.filters.find((x) => x.name === 'protect')!;
    t.equal(f.family, 'inet', `${form}: family inet`);
    t.equal(c.firewall.lo0.inet, f.id, `${form}: attached as lo0's inet filter`);
    t.equal(c.firewall.lo0.inet6, null, `${form}: not inet6`);
  }
  // Numbered after the explicit family inet filters.
  const c = compiled('set firewall filter a term t then accept\nset firewall family inet filter b term t then accept');
  t.same(c.firewall.filters.map((f) => [f.name, f.id & 0xffff]), [['b', 1], ['a', 2]]);
  t.match(errors('set firewall filter a term t then accept\nset firewall family inet filter a term t then accept').join('\n'),
    /e.conf:1:21: filter 'a' is already defined as 'family inet filter a'/);
  t.match(errors('set firewall filter a term t then accept\nset interfaces lo0 unit 0 family inet6 filter input a').join('\n'),
    /unknown family inet6 filter 'a' \(there is a family inet filter 'a'\)/);
});

t.test('port matches either port', async (t) => {
  const { e, id } = filter('inet', 'f', 'set firewall filter f term p from port [ 22 8000-8080 ]\nset firewall filter f term p then accept');
  t.equal(verdict(e, id, q4({ destinationPort: 22 })), 'p:accept', 'destination port');
  t.equal(verdict(e, id, q4({ sourcePort: 8042, destinationPort: 9 })), 'p:accept', 'source port in a range');
  t.equal(verdict(e, id, q4({ sourcePort: 40000, destinationPort: 23 })), 'implicit-discard', 'neither');
  t.equal(verdict(e, id, q4({ protocol: ICMP, sourcePort: 22, destinationPort: 22 })), 'implicit-discard', 'no ports outside tcp/udp/sctp');
  t.match(errors('set firewall filter f term p from protocol icmp\nset firewall filter f term p from port 22').join('\n'), /can never match: 'port' only matches tcp, udp or sctp packets/);
});

t.test('ttl and hop-limit', async (t) => {
  const { e, id } = filter('inet', 'f', ['set firewall filter f term low from ttl [ 0-1 5 ]', 'set firewall filter f term low then discard',
    'set firewall filter f term rest then accept'].join('\n'));
  t.equal(verdict(e, id, q4({ ttl: 1 })), 'low:discard');
  t.equal(verdict(e, id, q4({ ttl: 5 })), 'low:discard');
  t.equal(verdict(e, id, q4({ ttl: 64 })), 'rest:accept');
  // Per packet: the flow's residual program keeps the ttl term.
  const terms = e.residual(id, q4());
  t.equal(terms.length, 2, 'the ttl term and the accept after it');
  t.ok(hasPerPacketTerms(terms));
  const bytes = encodeResidual(terms)!;
  const conds = bytes.readUInt32LE(FILTER_PROGRAM.offset.term + FILTER_TERM.offset.conds);
  t.equal(conds & TERM_TTL, TERM_TTL, 'the first term of the program has a ttl condition');
  const ttlWord = bytes.readUInt32LE(FILTER_PROGRAM.offset.term + FILTER_TERM.offset.ttl);
  t.equal(ttlWord, 0b100011, 'TTL 0, 1 and 5');
  const six = filter('inet6', 'g', 'set firewall family inet6 filter g term h from hop-limit 255\nset firewall family inet6 filter g term h then accept');
  t.equal(six.cfg.firewall.filters[0]!.terms[0]!.match.ttl?.[0]?.[1], 255);
  t.match(errors('set firewall filter f term t from hop-limit 3').join('\n'), /'hop-limit' is a family inet6 condition; family inet filters use 'ttl'/);
  t.match(errors('set firewall family inet6 filter f term t from ttl 3').join('\n'), /'ttl' is a family inet condition; family inet6 filters use 'hop-limit'/);
  t.match(errors('set firewall filter f term t from ttl 256').join('\n'), /e.conf:1:39: invalid TTL '256': TTLs are 0-255/);
});

t.test('fragment-offset', async (t) => {
  const { e, id } = filter('inet', 'f', ['set firewall filter f term later from fragment-offset 1-8191', 'set firewall filter f term later then discard',
    'set firewall filter f term first from fragment-offset 0', 'set firewall filter f term first then accept'].join('\n'));
  t.equal(verdict(e, id, q4({ isFragment: true, fragmentOffset: 185 })), 'later:discard');
  t.equal(verdict(e, id, q4()), 'first:accept', 'a whole packet has offset 0');
  // A program judges whole packets and first fragments: the offset-0 term decides for all of them.
  const terms = e.residual(id, q4());
  t.equal(terms.length, 1);
  t.equal(terms[0]!.descriptor.termId, 2);
  t.match(errors('set firewall filter f term t from fragment-offset 9000').join('\n'), /fragment offsets are 0-8191/);
  t.match(errors('set firewall filter f term t from fragment-offset 1-10\nset firewall filter f term t from destination-port 80').join('\n'),
    /cannot match a non-first fragment/);
});

t.test('non-contiguous (wildcard) masks and except', async (t) => {
  const { e, id, cfg } = filter('inet', 'f', [
    // Hosts .1 of every 10.x.5.0/24, except 10.9.5.1.
    'set firewall filter f term w from source-address 10.0.5.1/255.0.255.255',
    'set firewall filter f term w from source-address 10.9.5.1/32 except',
    'set firewall filter f term w then accept',
    'set firewall filter f term x from destination-address 1.2.3.4/255.0.255.0',
    'set firewall filter f term x then count wild',
  ].join('\n'));
  const src = (s: string): FilterQuery => q4({ source: v4(s) });
  t.equal(verdict(e, id, src('10.0.5.1')), 'w:accept');
  t.equal(verdict(e, id, src('10.77.5.1')), 'w:accept', 'any second octet');
  t.equal(verdict(e, id, src('10.77.6.1')), 'implicit-discard', 'the third octet is masked in');
  t.equal(verdict(e, id, src('10.77.5.2')), 'implicit-discard');
  t.equal(verdict(e, id, src('10.9.5.1')), 'implicit-discard', 'except');
  const w = cfg.firewall.filters[0]!.terms[1]!.match.destinationAddress![0]!;
  t.same({ words: w.prefix.words, mask: w.mask, length: w.prefix.length }, { words: [0x01000300], mask: [0xff00ff00], length: 16 }, 'address bits outside the mask are free');
  t.equal(verdict(e, id, q4({ destination: v4('1.99.3.200') })), 'x:accept');
  t.equal(verdict(e, id, q4({ destination: v4('1.99.4.200') })), 'implicit-discard');
  // A contiguous dotted mask is a prefix.
  const c = compiled('set firewall filter f term t from source-address 10.0.0.0/255.255.0.0');
  t.same(c.firewall.filters[0]!.terms[0]!.match.sourceAddress, [{ prefix: { family: 'inet', words: [0x0a000000], length: 16 }, except: false }]);
  // Indexed and long-prefix shapes agree.
  const long = compiled([...Array.from({ length: 12 }, (_, i) => `set firewall filter g term t from source-address 10.${i}.0.0/16`),
    'set firewall filter g term t from source-address 0.0.0.1/0.0.0.255', 'set firewall filter g term t then accept'].join('\n'));
  const ge = new FilterEngine(long, { indexThreshold: 0, linearPrefixes: 0 });
  const gid = long.firewall.filters[0]!.id;
  t.equal(verdict(ge, gid, src('192.168.7.1')), 't:accept', 'the wildcard entry among many prefixes');
  t.equal(verdict(ge, gid, src('10.3.9.9')), 't:accept');
  t.equal(verdict(ge, gid, src('192.168.7.2')), 'implicit-discard');
  t.match(errors('set firewall filter f term t from source-address 10.0.0.1/255.0.300.0').join('\n'), /invalid mask in '10.0.0.1\/255.0.300.0'/);
});

t.test('policers', async (t) => {
  const text = [
    'set firewall policer icmp-1m if-exceeding bandwidth-limit 1m',
    'set firewall policer icmp-1m if-exceeding burst-size-limit 15k',
    'set firewall policer icmp-1m then discard',
    'set firewall filter protect term icmp from protocol icmp',
    'set firewall filter protect term icmp then policer icmp-1m',
    'set firewall filter protect term icmp then count icmp',
    'set firewall filter protect term icmp then accept',
    'set firewall filter protect term ssh from protocol tcp',
    'set firewall filter protect term ssh then policer icmp-1m',
    'set interfaces lo0 unit 0 family inet filter input protect',
  ].join('\n');
  const hier = `firewall {
    policer icmp-1m { if-exceeding { bandwidth-limit 1m; burst-size-limit 15k; } then discard; }
    filter protect {
        term icmp { from { protocol icmp; } then { policer icmp-1m; count icmp; accept; } }
        term ssh { from { protocol tcp; } then policer icmp-1m; }
    }
}
interfaces { lo0 { unit 0 { family inet { filter { input protect; } } } } }`;
  for (const [form, src] of [['set', text], ['hierarchical', hier]] as const) {
    const c = compiled(src);
    t.same([...c.firewall.policers.values()], [{ name: 'icmp-1m', bandwidthLimit: 1_000_000, burstSizeLimit: 15_000 }], `${form}: the policer`);
    t.same(c.firewall.filters[0]!.terms.map((x) => [x.name, x.action, x.policer]), [['icmp', 'accept', 'icmp-1m'], ['ssh', 'accept', 'icmp-1m']], `${form}: terms name it`);
  }
  const c = compiled(text);
  const e = new FilterEngine(c);
  // One bucket per term (Junos's term-specific default), named policer-term.
  t.same(e.policers().map((p) => [p.index, p.term, p.policer, p.bandwidthLimit, p.burstSizeLimit]), [[1, 'icmp', 'icmp-1m', 1e6, 15000], [2, 'ssh', 'icmp-1m', 1e6, 15000]]);
  const id = c.firewall.filters[0]!.id;
  // A policed term's verdict is per packet even when nothing else is: its program carries the bucket.
  const terms = e.residual(id, q4({ protocol: ICMP, sourcePort: 0, destinationPort: 0 }));
  t.equal(terms.length, 1, 'one term decides the flow');
  t.equal(terms[0]!.policer, 1);
  t.ok(hasPerPacketTerms(terms), 'yet XDP runs it per packet, for the bucket');
  const bytes = encodeResidual(terms)!;
  t.equal(bytes.readUInt32LE(FILTER_PROGRAM.offset.term + FILTER_TERM.offset.policer), 1, 'the bucket index in the program');
  t.notOk(hasPerPacketTerms(e.residual(id, q4({ protocol: UDP }))), 'an unpoliced flow replays its verdict');
  // Drops are carried across a reload by filter, term and policer.
  e.addPolicerDrops(2, 3, 300);
  const next = new FilterEngine(c);
  next.carryCountsFrom(e);
  t.same(next.policers().map((p) => [p.term, p.droppedPackets, p.droppedBytes]), [['icmp', 0, 0], ['ssh', 3, 300]]);

  const errs = (s: string): string => errors(s).join('\n');
  t.match(errs('set firewall filter f term t then policer nope'), /e.conf:1:43: unknown policer 'nope': define it with 'firewall policer nope/);
  t.match(errs('set firewall policer p if-exceeding bandwidth-limit 1k\nset firewall policer p if-exceeding burst-size-limit 2k\nset firewall policer p then discard'),
    /e.conf:1:53: invalid bandwidth-limit '1k': expected 8000 to 100000000000 bits per second/);
  t.match(errs('set firewall policer p if-exceeding bandwidth-limit 1m\nset firewall policer p then discard'), /policer 'p' needs 'burst-size-limit' in 'if-exceeding'/);
  t.match(errs('set firewall policer p if-exceeding bandwidth-limit 1m\nset firewall policer p if-exceeding burst-size-limit 2k'), /policer 'p' needs 'then discard'/);
  t.match(errs('set firewall policer p if-exceeding bandwidth-limit 1m\nset firewall policer p if-exceeding burst-size-limit 2k\nset firewall policer p then discard\nset firewall filter f term t then policer p\nset firewall filter f term t then discard'),
    /'policer p' in term 't' of filter 'f' would never pass a packet: the term discards every packet it matches/);
});

const ZONES = `set security zones security-zone trust interfaces t0
set security zones security-zone untrust interfaces u0
`;

t.test('applications: terms, inactivity-timeout, sets of sets with any', async (t) => {
  const text = ZONES + [
    'set applications application dns-both term udp protocol udp',
    'set applications application dns-both term udp destination-port 53',
    'set applications application dns-both term tcp protocol tcp',
    'set applications application dns-both term tcp destination-port 53',
    'set applications application dns-both term tcp inactivity-timeout 300',
    'set applications application dns-both inactivity-timeout 20',
    'set applications application slow-web protocol tcp',
    'set applications application slow-web destination-port 8080',
    'set applications application slow-web inactivity-timeout never',
    'set applications application-set inner application slow-web',
    'set applications application-set outer application-set inner',
    'set applications application-set outer application dns-both',
    'set applications application-set everything application-set inner',
    'set applications application-set everything application any',
    'set security policies from-zone trust to-zone untrust policy p1 match source-address any destination-address any application outer',
    'set security policies from-zone trust to-zone untrust policy p1 then permit',
    'set security policies from-zone untrust to-zone trust policy p2 match source-address any destination-address any application everything',
    'set security policies from-zone untrust to-zone trust policy p2 then permit',
  ].join('\n');
  const c = compiled(text);
  const e = new PolicyEngine(c);
  const q = (protocol: number, destinationPort: number, fromZone = 'trust', toZone = 'untrust') => e.match({
    fromZone, toZone, family: 'inet', protocol, source: v4('10.0.0.1'), destination: v4('10.1.0.1'), sourcePort: 40000, destinationPort, icmpType: 0, icmpCode: 0,
  });
  const udp = q(UDP, 53);
  t.same([udp.policyName, udp.action, udp.application, udp.inactivityTimeout], ['p1', 'permit', 'dns-both', 20], 'the udp term, the application\'s timeout');
  const tcp = q(TCP, 53);
  t.same([tcp.application, tcp.inactivityTimeout], ['dns-both', 300], 'the tcp term\'s own timeout');
  const web = q(TCP, 8080);
  t.same([web.application, web.inactivityTimeout], ['slow-web', 0x7fffffff], 'a set within a set; never');
  t.equal(q(TCP, 80).action, 'deny', 'nothing else');
  const any = q(ICMP, 0, 'untrust', 'trust');
  t.same([any.policyName, any.action], ['p2', 'permit'], 'application any inside a set admits everything');
  const err = (s: string): string => errors(ZONES + s).join('\n');
  t.match(err('set applications application a term t protocol tcp\nset applications application a protocol udp'), /application 'a' has terms: 'protocol' belongs in one of them/);
  t.match(err('set applications application a term t destination-port 80'), /term 't' of application 'a' needs a protocol/);
  t.match(err('set applications application a protocol tcp\nset applications application a inactivity-timeout 2'), /e.conf:4:51: invalid inactivity-timeout \(seconds, or never\) '2': expected a number from 4 to 86400/);
});

t.test('show config prints them back to the same result', async (t) => {
  const text = `
firewall {
    policer p { if-exceeding { bandwidth-limit 2m; burst-size-limit 20k; } then discard; }
    filter f {
        term a { from { source-address { 10.0.5.1/255.0.255.255; 10.9.5.1/32 except; } port [ 22 80 ]; ttl 1-10; fragment-offset 0; } then { policer p; count a; accept; } }
    }
    family inet6 { filter g { term h { from { hop-limit [ 1 255 ]; } then discard; } } }
}
applications {
    application two { term u protocol udp destination-port 53; term t { protocol tcp; destination-port 53; inactivity-timeout 60; } inactivity-timeout 30; }
    application-set s { application two; application any; }
}`;
  const first = compileText(text, 'p.conf');
  if (!first.ok) return void t.fail(first.errors.join('\n'));
  const { tree } = readConfigTree(text, 'p.conf');
  for (const [form, printed] of [['hierarchical', printHierarchical(tree)], ['set', printSet(tree)]] as const) {
    const again = compileText(printed, 'again.conf');
    if (!again.ok) return void t.fail(`${form}:\n${again.errors.join('\n')}\n${printed}`);
    t.same(JSON.parse(JSON.stringify(again.config.firewall, (_k, v: unknown) => (v instanceof Map ? [...v] : v))),
      JSON.parse(JSON.stringify(first.config.firewall, (_k, v: unknown) => (v instanceof Map ? [...v] : v))), `${form}: the same filters and policers`);
  }
});
