// Residual filter programs (lib/filter/residual.ts, lib/filter/programs.ts, FlowFilters): a
// flow whose filter has no per-packet term that could match it keeps one cached verdict (no
// program); one that has gets an interned program, shared with every flow that has the same;
// slots no session names are reclaimed, never one a session (or a session being installed)
// still names; a program that does not fit, or finds no slot, is judged in the slow path.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { FILTER_PROGRAM, FILTER_PROGRAM_SLOW_PATH, FILTER_TERM } from '../../lib/dataplane/layout.js';
import { FilterPrograms } from '../../lib/filter/programs.js';
import { TERM_DSCP, TERM_PACKET_LENGTH, TERM_TCP_FLAGS } from '../../lib/filter/residual.js';
import { FlowFilters } from '../../lib/slowpath/flow-filters.js';

function compiled(text: string): CompiledConfig {
  const r = compileText(text, 'programs.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

const CONFIG = compiled(`
security { zones {
  security-zone trust { interfaces { trust0; } }
  security-zone untrust { interfaces { untrust0; } }
} }
firewall { family inet {
  filter in {
    term syns { from { protocol tcp; destination-port 22; tcp-flags "syn & !ack"; } then { count syns; accept; } }
    term big { from { protocol udp; packet-length 1000-1500; } then discard; }
    term voice { from { source-address 10.1.0.0/16; dscp ef; } then { log; accept; } }
    term rest { then { count rest; accept; } }
  }
  filter many {
    ${Array.from({ length: 12 }, (_, i) => `term d${i} { from { dscp ${i}; } then accept; }`).join('\n    ')}
    term rest { then accept; }
  }
} }
interfaces {
  trust0 { unit 0 { family inet { filter { input in; } } } }
  untrust0 { unit 0 { family inet { filter { input many; } } } }
}`);

const IFINDEX: Record<string, number> = { trust0: 2, untrust0: 3 };
const v4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));
const FIRST = { tcpFlags: 0x02, icmpCode: 0, dscp: 0 };

function store(): { written: Map<number, Buffer>; write(i: number, p: Buffer): void } {
  const written = new Map<number, Buffer>();
  return { written, write: (i, p) => void written.set(i, p) };
}

function flow(protocol: number, src: string, dport: number) {
  return { family: 2, protocol, source: v4(src), destination: v4('10.9.0.2'), sourcePort: 40000, destinationPort: dport, icmpType: 0 };
}

t.test('a program only for flows a per-packet term could match; shared by equal ones', async (t) => {
  const s = store();
  const programs = new FilterPrograms(s, () => []);
  const ff = new FlowFilters(CONFIG, (n) => IFINDEX[n] ?? null, programs);
  // TCP to 443 from 10.2/16: no term but `rest` can match it: one verdict, no program.
  const plain = ff.sessionFilters(flow(6, '10.2.0.1', 443), FIRST, 2, 3, false).client.input;
  t.equal(plain.program, 0, 'no per-packet term can match: the cheap cached verdict');
  t.equal(ff.engine.termName(plain.filterId, plain.termId), 'rest');
  // SSH: `syns` applies per packet.
  const ssh = ff.sessionFilters(flow(6, '10.2.0.1', 22), FIRST, 2, 3, false).client.input;
  t.ok(ssh.program > 0 && ssh.program < FILTER_PROGRAM_SLOW_PATH, 'ssh: a program');
  t.equal(ff.engine.termName(ssh.filterId, ssh.termId), 'syns', 'the fields besides name the first packet\'s verdict');
  const p = s.written.get(ssh.program)!;
  t.equal(p.readUInt32LE(FILTER_PROGRAM.offset.terms), 2, 'syns, then rest');
  const term0 = FILTER_PROGRAM.offset.term;
  t.equal(p.readUInt32LE(term0 + FILTER_TERM.offset.conds), TERM_TCP_FLAGS);
  t.equal(p.readUInt32LE(term0 + FILTER_TERM.size + FILTER_TERM.offset.conds), 0, 'the last term has no condition');
  const ssh2 = ff.sessionFilters(flow(6, '10.2.0.7', 22), FIRST, 2, 3, false).client.input;
  t.equal(ssh2.program, ssh.program, 'another ssh flow shares the program');
  // UDP from 10.1/16: big (length) and voice (dscp), then rest.
  const voice = ff.sessionFilters(flow(17, '10.1.0.1', 5060), FIRST, 2, 3, false).client.input;
  const pv = s.written.get(voice.program)!;
  t.equal(pv.readUInt32LE(FILTER_PROGRAM.offset.terms), 3);
  t.same([0, 1].map((i) => pv.readUInt32LE(term0 + i * FILTER_TERM.size + FILTER_TERM.offset.conds)), [TERM_PACKET_LENGTH, TERM_DSCP]);
  t.equal(s.written.size, 2, 'two distinct programs written');
  // 12 dscp terms before `rest`: more than XDP runs.
  const many = ff.sessionFilters(flow(17, '10.9.0.2', 53), FIRST, 3, 2, false).client.input;
  t.equal(many.program, FILTER_PROGRAM_SLOW_PATH, 'too many terms: judged in the slow path');
  const none = new FlowFilters(CONFIG, (n) => IFINDEX[n] ?? null).sessionFilters(flow(6, '10.2.0.1', 22), FIRST, 2, 3, false).client.input;
  t.equal(none.program, FILTER_PROGRAM_SLOW_PATH, 'with nowhere to put programs: the slow path');
});

t.test('slots are reclaimed only when no session names them', async (t) => {
  const s = store();
  let live: number[] = [];
  const programs = new FilterPrograms(s, () => live, 4); // slots 1-3
  const prog = (n: number): Buffer => Buffer.alloc(8, n);
  const a = programs.intern(prog(1));
  const b = programs.intern(prog(2));
  const c = programs.intern(prog(3));
  t.same([a, b, c].sort(), [1, 2, 3]);
  t.equal(programs.intern(prog(1)), a, 'the same program, the same slot');
  t.equal(programs.intern(prog(4)), FILTER_PROGRAM_SLOW_PATH, 'all interned since the last sweep: none reclaimed, slow path');
  live = [a];
  const d = programs.intern(prog(5));
  t.ok(d !== a && d !== FILTER_PROGRAM_SLOW_PATH, 'a swept slot no session names is reused');
  t.same(s.written.get(d), prog(5));
  t.equal(programs.intern(prog(1)), a, 'the live program kept its slot');
  t.equal(programs.report().tableFull, 1);
});

t.test('after a restart, the slots adopted sessions name are kept', async (t) => {
  const s = store();
  const programs = new FilterPrograms(s, () => [2, 3], 5);
  const got = [programs.intern(Buffer.alloc(8, 1)), programs.intern(Buffer.alloc(8, 2))];
  t.same(got, [1, 4], 'only slots no adopted session names');
  t.equal(programs.intern(Buffer.alloc(8, 3)), FILTER_PROGRAM_SLOW_PATH);
});
