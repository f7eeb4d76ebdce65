import t from 'tap';
import { compileText, readConfigTree } from '../../lib/config/compile.js';
import { parseTcpFlags, tableHas, type Filter, type FilterMatch, type FilterPrefix, type Range } from '../../lib/config/filters.js';
import { printHierarchical } from '../../lib/config/printer.js';
import type { CompiledConfig, Family } from '../../lib/config/types.js';
import { FilterEngine, type FilterEngineOptions, type FilterQuery } from '../../lib/filter/engine.js';
import { prng as rng } from '../helpers/prng.js';

/**
 * The engine against a straightforward reference evaluator written from the Junos rules, on
 * random configurations (compiled from random text, set or hierarchical) and random packets.
 * Seeded: a failure names its seed and case so it can be replayed.
 */


class Gen {
  constructor(readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
}

// ---------------------------------------------------------------------------------------------
// tcp-flags: an independent evaluator that translates an expression to JavaScript.

const FLAG_JS: Record<string, string> = {
  fin: '((f&1)!==0)',
  syn: '((f&2)!==0)',
  rst: '((f&4)!==0)',
  push: '((f&8)!==0)',
  ack: '((f&16)!==0)',
  urgent: '((f&32)!==0)',
  'tcp-initial': '(((f&2)!==0)&&!((f&16)!==0))',
  'tcp-established': '(((f&16)!==0)||((f&4)!==0))',
};

function jsFlags(expr: string): (f: number) => boolean {
  const js = (expr.match(/[()!&+|,]|[A-Za-z][A-Za-z0-9-]*|0x[0-9a-fA-F]+/g) ?? [])
    .map((tok) => {
      if (tok === '&' || tok === '+') return '&&';
      if (tok === '|' || tok === ',') return '||';
      if (tok === '!' || tok === '(' || tok === ')') return tok;
      if (tok.startsWith('0x')) return `((f&${tok})===${tok})`;
      return FLAG_JS[tok.toLowerCase()];
    })
    .join('');
  return new Function('f', `return ${js};`) as (f: number) => boolean;
}

function randomFlags(g: Gen, depth = 0): string {
  if (depth > 2 || g.chance(0.4)) {
    const leaf = g.chance(0.1) ? `0x${(1 + g.int(0x3f)).toString(16)}` : g.pick(['fin', 'syn', 'rst', 'push', 'ack', 'urgent', 'syn', 'ack', 'tcp-initial', 'tcp-established']);
    return g.chance(0.3) ? `!${leaf}` : leaf;
  }
  const op = g.pick([' & ', ' | ', '&', '|', ' + ', ', ']);
  const e = `${randomFlags(g, depth + 1)}${op}${randomFlags(g, depth + 1)}`;
  return g.chance(0.4) ? `${g.chance(0.3) ? '!' : ''}(${e})` : e;
}

t.test('tcp-flags tables agree with the expressions evaluated directly', async (t) => {
  const g = new Gen(rng(7));
  for (let i = 0; i < 3000; i++) {
    const expr = randomFlags(g);
    const table = parseTcpFlags(expr);
    if (typeof table === 'string') return void t.fail(`${expr}: ${table}`);
    const direct = jsFlags(expr);
    for (let f = 0; f < 64; f++) {
      if (tableHas(table.low, table.high, f) !== direct(f)) return void t.fail(`case ${i}: '${expr}' flags ${f}`);
    }
  }
  t.pass('3000 expressions');
});

// ---------------------------------------------------------------------------------------------
// Random configurations

const V4_POOL = ['10.1.2.3', '10.1.2.200', '10.1.9.9', '10.200.0.1', '192.0.2.10', '192.0.2.200', '198.51.100.7', '8.8.8.8', '0.0.0.1', '255.255.255.255'];
const V6_POOL = ['2001:db8:1::1', '2001:db8:1:ff::5', '2001:db8:2::1', '2001:db8::', 'fe80::1', '::1', 'ffff::'];

function v4Words(s: string): number[] {
  return [s.split('.').reduce((a, o) => a * 256 + Number(o), 0)];
}

function v6Words(s: string): number[] {
  const [head, tail = ''] = s.split('::');
  const groups = (x: string): number[] => (x ? x.split(':').map((h) => parseInt(h, 16)) : []);
  const h = groups(head);
  const tl = groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - tl.length).fill(0), ...tl];
  return [0, 1, 2, 3].map((k) => ((all[2 * k] << 16) | all[2 * k + 1]) >>> 0);
}

const POOL: Record<Family, number[][]> = { inet: V4_POOL.map(v4Words), inet6: V6_POOL.map(v6Words) };
const WIDTH: Record<Family, number> = { inet: 32, inet6: 128 };

function toBig(words: readonly number[]): bigint {
  return words.reduce((a, w) => (a << 32n) | BigInt(w >>> 0), 0n);
}

function fromBig(x: bigint, family: Family): number[] {
  const n = family === 'inet' ? 1 : 4;
  return Array.from({ length: n }, (_, k) => Number((x >> BigInt(32 * (n - 1 - k))) & 0xffffffffn));
}

/** A pool address with a few bits flipped, mostly low ones. */
function randomAddress(g: Gen, family: Family): bigint {
  let x = toBig(g.pick(POOL[family]));
  const width = WIDTH[family];
  for (let k = g.int(3); k > 0; k--) {
    const bit = g.chance(0.7) ? g.int(Math.min(16, width)) : g.int(width);
    x ^= 1n << BigInt(bit);
  }
  return x;
}

function formatPrefix(x: bigint, length: number, family: Family): string {
  const words = fromBig(x, family);
  if (family === 'inet') return `${[24, 16, 8, 0].map((s) => (words[0] >>> s) & 0xff).join('.')}/${length}`;
  const groups = words.flatMap((w) => [w >>> 16, w & 0xffff]).map((x) => x.toString(16));
  return `${groups.join(':')}/${length}`;
}

function randomPrefix(g: Gen, family: Family): string {
  const width = WIDTH[family];
  const length = g.chance(0.7) ? g.pick(family === 'inet' ? [0, 8, 16, 24, 25, 30, 32] : [0, 16, 32, 48, 64, 96, 127, 128]) : g.int(width + 1);
  const mask = length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(width - length);
  return formatPrefix(randomAddress(g, family) & mask, length, family);
}

const LISTS = ['l0', 'l1', 'l2', 'l3'];

function randomPrefixEntries(g: Gen, family: Family, n: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = randomPrefix(g, family);
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(g.chance(0.3) ? `${p} except` : p);
  }
  if (out.every((e) => e.endsWith(' except'))) out[0] = out[0].replace(' except', '');
  return out;
}

function randomTerm(g: Gen, family: Family, prefix: string): string[] {
  const lines: string[] = [];
  const from = (s: string): number => lines.push(`${prefix} from ${s}`);
  const icmp = family === 'inet' ? 'icmp' : 'icmp6';
  const fragment = g.chance(0.1);
  let protocols: string[] | null = null;
  if (g.chance(0.4)) {
    protocols = [...new Set(Array.from({ length: 1 + g.int(3) }, () => g.pick(['tcp', 'udp', icmp, 'gre', 'sctp', '50-51', '6-17', '0-255'])))];
    from(`${family === 'inet6' && g.chance(0.5) ? 'next-header' : 'protocol'} [ ${protocols.join(' ')} ]`);
  }
  const allows = (...names: string[]): boolean => protocols === null || protocols.some((p) => names.includes(p) || p === '6-17' && names.some((n) => n === 'tcp' || n === 'udp') || p === '0-255');
  for (const side of ['source', 'destination']) {
    if (g.chance(0.3)) for (const e of randomPrefixEntries(g, family, 1 + g.int(g.chance(0.2) ? 20 : 5))) from(`${side}-address ${e}`);
    if (g.chance(0.2)) {
      const names = [...new Set(Array.from({ length: 1 + g.int(2) }, () => g.pick(LISTS)))];
      for (const n of names) from(`${side}-prefix-list ${n}${g.chance(0.3) ? ' except' : ''}`);
    }
  }
  const ports = ['ssh', 'http', 'domain', '1024-65535', '0-1023', '8000-8080', '53', '443', '0', '65535'];
  if (!fragment && allows('tcp', 'udp', 'sctp')) {
    if (g.chance(0.25)) from(`source-port [ ${[...new Set(Array.from({ length: 1 + g.int(3) }, () => g.pick(ports)))].join(' ')} ]`);
    if (g.chance(0.35)) from(`destination-port [ ${[...new Set(Array.from({ length: 1 + g.int(3) }, () => (g.chance(0.2) ? String(g.int(65536)) : g.pick(ports))))].join(' ')} ]`);
  }
  if (!fragment && allows(icmp)) {
    const types = family === 'inet' ? ['echo-request', 'echo-reply', 'unreachable', '3', '11', '0-10'] : ['echo-request', 'neighbor-solicit', '1', '128-129', '133-137'];
    if (g.chance(0.2)) from(`icmp-type [ ${[...new Set(Array.from({ length: 1 + g.int(2) }, () => g.pick(types)))].join(' ')} ]`);
    if (g.chance(0.1)) from(`icmp-code [ ${[...new Set(Array.from({ length: 1 + g.int(2) }, () => g.pick(['0', '3', '4', '1-3'])))].join(' ')} ]`);
  }
  if (!fragment && allows('tcp') && g.chance(0.25)) {
    const r = g.int(4);
    if (r === 0) from('tcp-initial');
    else if (r === 1) from('tcp-established');
    else {
      let expr = randomFlags(g);
      for (let k = 0; k < 10; k++) {
        const table = parseTcpFlags(expr);
        if (typeof table !== 'string' && (table.low | table.high) !== 0) break;
        expr = randomFlags(g);
      }
      from(`tcp-flags "${expr}"`);
    }
  }
  if (fragment) from('is-fragment');
  if (g.chance(0.15)) from(`packet-length [ ${[...new Set(Array.from({ length: 1 + g.int(3) }, () => g.pick(['0-100', '40', '576', '100-600', '1280-1500', '1000'])))].join(' ')} ]`);
  if (g.chance(0.15)) from(`${family === 'inet6' && g.chance(0.5) ? 'traffic-class' : 'dscp'} [ ${[...new Set(Array.from({ length: 1 + g.int(2) }, () => g.pick(['ef', 'af11', 'be', '40-47', 'cs1', '63'])))].join(' ')} ]`);
  const then = (s: string): number => lines.push(`${prefix} then ${s}`);
  const reasons = family === 'inet' ? ['', ' host-unreachable', ' port-unreachable', ' tcp-reset'] : ['', ' address-unreachable', ' no-route'];
  const action = g.int(6);
  if (action === 0) then('accept');
  else if (action === 1) then('discard');
  else if (action === 2) then(`reject${g.pick(reasons)}`);
  else if (action === 3) then(`routing-instance ${g.pick(['ri1', 'ri2'])}`);
  if (g.chance(0.3)) then('log');
  if (g.chance(0.2)) then('syslog');
  if (g.chance(0.3)) then(`count ${g.pick(['c1', 'c2', 'c3'])}`);
  if (lines.length === 0) then('accept');
  return lines;
}

function randomConfig(g: Gen): string {
  const lines = ['set routing-instances ri1 instance-type virtual-router table-id 101', 'set routing-instances ri2 instance-type forwarding table-id 102'];
  for (const l of LISTS) {
    for (const family of ['inet', 'inet6'] as const) {
      for (let k = 1 + g.int(g.chance(0.2) ? 15 : 3); k > 0; k--) lines.push(`set policy-options prefix-list ${l} ${randomPrefix(g, family).replace(' except', '')}`);
    }
  }
  for (const family of ['inet', 'inet6'] as const) {
    for (let f = 0; f < 1 + g.int(2); f++) {
      const terms = 1 + g.int(g.chance(0.3) ? 40 : 8);
      for (let k = 0; k < terms; k++) {
        const prefix = `set firewall family ${family} filter f${f} ${g.chance(0.1) ? 'inactive: ' : ''}term t${k}`;
        lines.push(...randomTerm(g, family, prefix));
      }
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The reference evaluator

function contains(p: FilterPrefix, addr: bigint, family: Family): boolean {
  const shift = BigInt(WIDTH[family] - p.prefix.length);
  return addr >> shift === toBig(p.prefix.words) >> shift;
}

/** The longest listed prefix containing the address decides; none: no match. */
function refPrefixes(entries: readonly FilterPrefix[] | null, addr: bigint, family: Family): boolean {
  if (entries === null) return true;
  let best: FilterPrefix | null = null;
  for (const e of entries) {
    if (!contains(e, addr, family)) continue;
    if (!best || e.prefix.length > best.prefix.length || (e.prefix.length === best.prefix.length && e.except)) best = e;
  }
  return best !== null && !best.except;
}

function refIn(r: readonly Range[] | null, v: number): boolean {
  return r === null || r.some(([lo, hi]) => v >= lo && v <= hi);
}

interface Packet {
  q: FilterQuery;
  src: bigint;
  dst: bigint;
}

function refMatch(m: FilterMatch, family: Family, p: Packet): boolean {
  const q = p.q;
  if (m.isFragment && !q.isFragment) return false;
  if (!refIn(m.protocol, q.protocol) || !refIn(m.dscp, q.dscp) || !refIn(m.packetLength, q.length ?? 0)) return false;
  if (m.sourcePort !== null || m.destinationPort !== null) {
    if (q.isFragment || ![6, 17, 132].includes(q.protocol)) return false;
    if (!refIn(m.sourcePort, q.sourcePort) || !refIn(m.destinationPort, q.destinationPort)) return false;
  }
  if (m.icmpType !== null || m.icmpCode !== null) {
    if (q.isFragment || q.protocol !== (family === 'inet' ? 1 : 58)) return false;
    if (!refIn(m.icmpType, q.icmpType) || !refIn(m.icmpCode, q.icmpCode)) return false;
  }
  if (m.tcpFlags !== null) {
    if (q.isFragment || q.protocol !== 6) return false;
    const flags = q.tcpFlags & 0x3f;
    if (!jsFlags(m.tcpFlags.expression)(flags)) return false;
  }
  return (
    refPrefixes(m.sourceAddress, p.src, family) &&
    refPrefixes(m.sourcePrefixList, p.src, family) &&
    refPrefixes(m.destinationAddress, p.dst, family) &&
    refPrefixes(m.destinationPrefixList, p.dst, family)
  );
}

function refEvaluate(f: Filter, p: Packet): number {
  return f.terms.find((term) => refMatch(term.match, f.family, p))?.id ?? 0;
}

function randomPacket(g: Gen, family: Family): Packet {
  const src = randomAddress(g, family);
  const dst = randomAddress(g, family);
  const bytes = (x: bigint): Uint8Array => {
    const n = WIDTH[family] / 8;
    return Uint8Array.from({ length: n }, (_, i) => Number((x >> BigInt(8 * (n - 1 - i))) & 0xffn));
  };
  const port = (): number => (g.chance(0.8) ? g.pick([22, 80, 53, 443, 1023, 1024, 8000, 8080, 8081, 0, 65535]) : g.int(65536));
  return {
    src,
    dst,
    q: {
      family,
      protocol: g.chance(0.9) ? g.pick([6, 17, 1, 58, 132, 47, 50, 51]) : g.int(256),
      source: bytes(src),
      destination: bytes(dst),
      sourcePort: port(),
      destinationPort: port(),
      icmpType: g.chance(0.8) ? g.pick([0, 1, 3, 8, 11, 128, 129, 133, 135, 13]) : g.int(256),
      icmpCode: g.pick([0, 1, 3, 4, g.int(256)]),
      tcpFlags: g.int(256),
      isFragment: g.chance(0.1),
      dscp: g.chance(0.7) ? g.pick([0, 8, 10, 46, 40, 47, 63]) : g.int(64),
      length: 40 + g.int(1460),
    },
  };
}

const SHAPES: Array<[string, FilterEngineOptions]> = [
  ['default', {}],
  ['indexed', { indexThreshold: 0, linearPrefixes: 0 }],
  ['scan', { indexThreshold: 1e9, linearPrefixes: 1e9 }],
];

t.test('the engine agrees with the reference on random filters and packets', async (t) => {
  const CONFIGS = 250;
  const PACKETS = 150;
  let evaluated = 0;
  const termsSeen = new Set<string>();
  for (let c = 0; c < CONFIGS; c++) {
    const seed = 1000 + c;
    const g = new Gen(rng(seed));
    let text = randomConfig(g);
    // Half of them go through the hierarchical form.
    if (c % 2 === 1) text = printHierarchical(readConfigTree(text, 'r.conf').tree);
    const r = compileText(text, 'r.conf');
    if (!r.ok) return void t.fail(`seed ${seed}: the random configuration does not compile:\n${r.errors.join('\n')}\n${text}`);
    const cfg: CompiledConfig = r.config;
    const engines = SHAPES.map(([name, opts]) => [name, new FilterEngine(cfg, opts)] as const);
    const tally = new Map<string, [number, number]>();
    for (const f of cfg.firewall.filters) {
      for (let i = 0; i < PACKETS; i++) {
        const p = randomPacket(g, f.family);
        const want = refEvaluate(f, p);
        const term = f.terms.find((x) => x.id === want);
        if (term) termsSeen.add(`${term.action}${term.log ? '+log' : ''}${term.routingInstance ? '+ri' : ''}`);
        if (term?.count) {
          const key = `${f.id}/${term.count}`;
          const [pk, by] = tally.get(key) ?? [0, 0];
          tally.set(key, [pk + 1, by + (p.q.length ?? 0)]);
        }
        for (const [name, e] of engines) {
          const got = e.evaluate(f.id, p.q);
          evaluated++;
          const expect = term
            ? [term.id, term.action, term.rejectReason, term.log, term.syslog, term.count, term.routingInstance?.tableId ?? null]
            : [0, 'discard', null, false, false, null, null];
          const actual = [got.termId, got.action, got.rejectReason, got.log, got.syslog, got.counter, got.routingInstance];
          if (JSON.stringify(actual) !== JSON.stringify(expect)) {
            return void t.fail(
              `seed ${seed}, filter ${f.name}/${f.family}, packet ${i}, engine ${name}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expect)}\nquery ${JSON.stringify({ ...p.q, source: Array.from(p.q.source), destination: Array.from(p.q.destination) })}\n${text}`,
            );
          }
        }
      }
    }
    for (const [name, e] of engines) {
      const counts = new Map(e.counts().map((x) => [`${x.filterId}/${x.counter}`, [x.packets, x.bytes]]));
      for (const [key, want] of tally) {
        if (JSON.stringify(counts.get(key)) !== JSON.stringify(want)) return void t.fail(`seed ${seed}, engine ${name}: counter ${key} is ${JSON.stringify(counts.get(key))}, want ${JSON.stringify(want)}`);
      }
    }
  }
  t.ok(evaluated > 100_000, `${evaluated} evaluations`);
  t.ok(termsSeen.size >= 6, `varied outcomes: ${[...termsSeen].sort().join(', ')}`);
});
