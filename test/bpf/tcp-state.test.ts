// TCP tracking of the compiled XDP object under BPF_PROG_RUN: sessions are
// installed as the slow path installs them (two entries naming each other,
// state none), then every segment of a connection runs through xdpfw_rx.
// The state machine, windows with scaling, exact RSTs, syn-check and the
// tcp-session settings are judged by what the program does and counts.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'ip neigh add 10.8.0.2 lladdr 02:00:00:00:08:02 dev in0 nud permanent',
  'ip neigh add fd08::2 lladdr 02:00:00:00:08:02 dev in0 nud permanent',
]);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION, SESSION_KEY, TCP_CONN, TCP_DIR } = await import('../../lib/dataplane/layout.js');
const { directionCounters, installSession, sessionKey, setDirectionVerdicts } = await import('../helpers/session-entry.js');
const { NO_FILTER } = await import('../../lib/filter/descriptor.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { reverseKey } = await import('../../lib/session/flow-key.js');
const { TcpStates } = await import('../../lib/session/tcp.js');
const { listSessions } = await import('../../lib/session/query.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
type TcpStateName = import('../../lib/session/tcp.js').TcpStateName;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const inIndex = native.ifNameToIndex('in0');
const outIndex = native.ifNameToIndex('out0');
dp.registerPort(inIndex, 0, 1);
dp.registerPort(outIndex, 1, 2);
// A slow path socket on both queues 0, so what XDP hands up is seen as SLOW_PATH.
const sockets = [new native.Xsk({ ifindex: inIndex, ifname: 'in0', queue: 0 }), new native.Xsk({ ifindex: outIndex, ifname: 'out0', queue: 0 })];
dp.registerSocket(0, 0, sockets[0]!.fd);
dp.registerSocket(1, 0, sockets[1]!.fd);
t.teardown(() => {
  for (const s of sockets) s.close();
  dp.close();
  purgePins(paths);
});

const states = new TcpStates(dp.constants.tcp.states);
const closeReasons = dp.constants.tcp.closeReasons;
const sessions = dp.mapFd('xdpfw_sessions');
const filterActions = native.btfEnum(dp.objectPath, 'xdpfw_filter_action');

const CLIENT4 = '10.8.0.2';
const SERVER4 = '10.9.0.2';
const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;
/** Window scale option (kind 3, shift) behind a NOP. */
const wscale = (shift: number) => Buffer.from([1, 3, 3, shift]);

let nextPort = 30000;

/** One connection: its two keys installed as the slow path does, and a segment builder.
 * IPv6 with `ext`: the extension headers its segments carry. */
function connection(v6?: { ext: number[] }) {
  const CLIENT = v6 ? 'fd08::2' : CLIENT4;
  const SERVER = v6 ? 'fd09::2' : SERVER4;
  const sport = nextPort++;
  const key = Buffer.alloc(SESSION_KEY.size);
  key[SESSION_KEY.offset.family] = v6 ? 10 : 2;
  key[SESSION_KEY.offset.protocol] = 6;
  key.writeUInt16BE(sport, SESSION_KEY.offset.src_port);
  key.writeUInt16BE(80, SESSION_KEY.offset.dst_port);
  ipBytes(CLIENT).copy(key, SESSION_KEY.offset.src_addr);
  ipBytes(SERVER).copy(key, SESSION_KEY.offset.dst_addr);
  const rev = reverseKey(key, Buffer.alloc(SESSION_KEY.size)) as Buffer;
  // Bound as the slow path binds it: the client's side arrives on in0 and leaves by out0.
  const entryKey = installSession(sessions, dp.objectPath, {
    client: key, sessionId: BigInt(sport), ingress: inIndex, egress: outIndex, fromZone: 1, toZone: 2, tcp: false,
  });
  return {
    key,
    entryKey,
    rev,
    /** A segment from the client (or the server, `fromServer`) through xdpfw_rx. */
    send(fromServer: boolean, flags: number, seq: number, ack: number, opts: { len?: number; win?: number; options?: Buffer } = {}) {
      const data = frame({
        src: fromServer ? SERVER : CLIENT, dst: fromServer ? CLIENT : SERVER, protocol: 'tcp',
        sport: fromServer ? 80 : sport, dport: fromServer ? sport : 80,
        tcpFlags: flags, tcpSeq: seq, tcpAck: ack, tcpWindow: opts.win ?? 65535, tcpOptions: opts.options,
        payload: Buffer.alloc(opts.len ?? 0), ext: v6?.ext,
      });
      return deltas(() => native.progTestRun(dp.progs.rx, { data, ifindex: fromServer ? outIndex : inIndex, rxQueue: 0, dataOutSize: data.length + 64 }));
    },
    /** Writes a cached filter verdict on one direction's input (the server's: `reverse`). */
    setInputFilter(reverse: boolean, action: 'discard' | 'none') {
      const v = Buffer.alloc(SESSION.size);
      native.mapLookup(sessions, entryKey, v);
      // The whole verdict, its residual program included (0: none, the verdict is replayed), in
      // row 1 of the verdict rows, which the entry names from now on.
      const discard = { filterId: 9, termId: 0, counter: 0, tableId: 0, action: filterActions.XDPFW_FILTER_ACTION_DISCARD!, flags: 0, rejectReason: 0, program: 0 };
      setDirectionVerdicts(dp.mapFd('xdpfw_verdict_rows'), 1, reverse ? 1 : 0, action === 'discard' ? discard : NO_FILTER, NO_FILTER);
      v.writeUInt32LE(1, SESSION.offset.verdicts);
      native.mapUpdate(sessions, entryKey, v, 2);
    },
    owner(): Buffer {
      const v = Buffer.alloc(SESSION.size);
      if (!native.mapLookup(sessions, entryKey, v)) throw new Error('no entry');
      return v;
    },
    state(): TcpStateName {
      return states.name(this.owner()[SESSION.offset.tcp + TCP_CONN.offset.state]!);
    },
    /** This side's highest sequence (td_end) as XDP tracks it. */
    tdEnd(side: 0 | 1): number {
      return this.owner().readUInt32LE(SESSION.offset.tcp + TCP_CONN.offset.dir + side * TCP_DIR.size + TCP_DIR.offset.td_end);
    },
    counters(reverse: boolean) {
      const c = directionCounters(sessions, key, reverse ? 1 : 0);
      return { packets: c?.packets ?? 0, bytes: c?.bytes ?? 0 };
    },
  };
}

/** Counter deltas (packets) of one run, by counter name, with its verdict. */
function deltas(fn: () => { retval: number }): Record<string, number> {
  const before = dp.readCounters();
  const r = fn();
  const out: Record<string, number> = { retval: r.retval };
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) out[name] = d;
  }
  return out;
}

const FWD = { retval: XDP_REDIRECT, FAST_FORWARD: 1 };
const C_ISN = 1000;
const S_ISN = 900000;

/** A handshake with window scaling 7 on both sides; returns the connection established. */
function established(scale = 7) {
  const c = connection();
  const options = scale >= 0 ? wscale(scale) : undefined;
  c.send(false, SYN, C_ISN, 0, { options, win: 64240 });
  c.send(true, SYN | ACK, S_ISN, C_ISN + 1, { options, win: 65160 });
  c.send(false, ACK, C_ISN + 1, S_ISN + 1, { win: 502 });
  return c;
}

t.test('handshake, data both ways, FIN both ways: time-wait, closed by FIN, one close record', async (t) => {
  const c = connection();
  t.equal(c.state(), 'none', 'installed by the slow path in state none');
  t.same(c.send(false, SYN, C_ISN, 0, { options: wscale(7), win: 64240 }), FWD, 'SYN');
  t.equal(c.state(), 'syn-sent');
  t.same(c.send(false, SYN, C_ISN, 0, { options: wscale(7), win: 64240 }), FWD, 'retransmitted SYN passes');
  t.equal(c.state(), 'syn-sent');
  t.same(c.send(true, SYN | ACK, S_ISN, C_ISN + 1, { options: wscale(7), win: 65160 }), FWD, 'SYN-ACK');
  t.equal(c.state(), 'syn-recv');
  t.same(c.send(true, SYN | ACK, S_ISN, C_ISN + 1, { options: wscale(7), win: 65160 }), FWD, 'retransmitted SYN-ACK passes');
  t.same(c.send(false, ACK, C_ISN + 1, S_ISN + 1, { win: 502 }), FWD, 'ACK');
  t.equal(c.state(), 'established');
  t.same(c.send(false, ACK | PSH, C_ISN + 1, S_ISN + 1, { len: 1000, win: 502 }), FWD, 'client data');
  t.equal(c.tdEnd(0), C_ISN + 1001, 'the client side advanced by its data');
  t.same(c.send(true, ACK | PSH, S_ISN + 1, C_ISN + 1001, { len: 1400, win: 509 }), FWD, 'server data');
  t.same(c.send(false, FIN | ACK, C_ISN + 1001, S_ISN + 1401, { win: 502 }), FWD, 'client FIN');
  t.equal(c.state(), 'fin-wait');
  t.same(c.send(true, ACK, S_ISN + 1401, C_ISN + 1002, { win: 509 }), FWD, 'server ACKs the FIN');
  t.equal(c.state(), 'close-wait', 'half-closed');
  t.same(c.send(true, ACK | PSH, S_ISN + 1401, C_ISN + 1002, { len: 100, win: 509 }), FWD, 'the server still sends (half-close)');
  t.same(c.send(true, FIN | ACK, S_ISN + 1501, C_ISN + 1002, { win: 509 }), FWD, 'server FIN');
  t.equal(c.state(), 'last-ack');
  const owner = c.owner();
  t.equal(owner[SESSION.offset.close_flags], 0, 'no close record yet');
  t.same(c.send(false, ACK, C_ISN + 1002, S_ISN + 1502, { win: 502 }), FWD, 'last ACK');
  t.equal(c.state(), 'time-wait');
  const closed = c.owner();
  t.equal(closed[SESSION.offset.tcp + TCP_CONN.offset.close_reason], closeReasons.XDPFW_CLOSE_TCP_FIN, 'closed by FIN');
  t.ok(closed.readUInt32LE(SESSION.offset.tcp + TCP_CONN.offset.closed_s) > 0, 'close time recorded');
  t.equal(closed[SESSION.offset.close_flags]! & dp.constants.tcp.closeEventWritten, dp.constants.tcp.closeEventWritten, 'close record written');
  t.same(c.counters(false), { packets: 6, bytes: 2 * 44 + 4 * 40 + 1000 }, 'client direction counted exactly (SYNs carry 4 bytes of options)');
  t.same(c.send(false, ACK, C_ISN + 1002, S_ISN + 1502, { win: 502 }), FWD, 'a retransmitted last ACK in time-wait passes');
  t.equal(c.state(), 'time-wait');
  t.same(c.send(false, SYN, C_ISN + 50000, 0, { options: wscale(7) }), { retval: XDP_REDIRECT, SLOW_PATH: 1 },
    'a new SYN on the closed tuple goes to the slow path: a new connection');
});

t.test('IPv6 behind extension headers: the segment is found where the chain ends', async (t) => {
  const c = connection({ ext: [0, 60] });
  t.same(c.send(false, SYN, C_ISN, 0, { options: wscale(7), win: 64240 }), FWD, 'SYN');
  t.same(c.send(true, SYN | ACK, S_ISN, C_ISN + 1, { options: wscale(7), win: 65160 }), FWD, 'SYN-ACK');
  t.same(c.send(false, ACK | PSH, C_ISN + 1, S_ISN + 1, { len: 700, win: 502 }), FWD, 'ACK with data');
  t.equal(c.state(), 'established');
  t.equal(c.tdEnd(0), C_ISN + 701, 'the data length counts the TCP payload only, not the extension headers');
  t.same(c.send(true, RST, S_ISN + 5, 0), { retval: XDP_DROP, DROP_TCP_RST_INEXACT: 1 }, 'an inexact RST');
  t.same(c.send(true, RST, S_ISN + 1, 0), FWD, 'the exact RST');
  t.equal(c.state(), 'close');
});

t.test('window scaling: a segment only the scaled window allows passes; beyond it is dropped', async (t) => {
  const c = established(7);
  // The server offered 65160 on its SYN-ACK; now it offers 1000 << 7 = 128000.
  c.send(true, ACK, S_ISN + 1, C_ISN + 1, { win: 1000 });
  t.same(c.send(false, ACK, C_ISN + 1 + 100000, S_ISN + 1, { len: 1000, win: 502 }), FWD, '100000 bytes ahead: inside the scaled window');
  t.same(c.send(false, ACK, C_ISN + 1 + 140000, S_ISN + 1, { len: 1000, win: 502 }), { retval: XDP_DROP, DROP_TCP_OUT_OF_WINDOW: 1 },
    '140000 bytes ahead: beyond it');
  const plain = established(-1);
  plain.send(true, ACK, S_ISN + 1, C_ISN + 1, { win: 1000 });
  t.same(plain.send(false, ACK, C_ISN + 1 + 100000, S_ISN + 1, { len: 1000, win: 502 }), { retval: XDP_DROP, DROP_TCP_OUT_OF_WINDOW: 1 },
    'without the option on both SYNs the window is not scaled');
});

t.test('out-of-window data and ACKs are dropped, counted, and change nothing', async (t) => {
  const c = established();
  const end = c.tdEnd(0);
  t.same(c.send(false, ACK, C_ISN + 1 + 5_000_000, S_ISN + 1, { len: 100 }), { retval: XDP_DROP, DROP_TCP_OUT_OF_WINDOW: 1 }, 'far ahead');
  t.same(c.send(false, ACK, C_ISN - 3_000_000, S_ISN + 1, { len: 100 }), { retval: XDP_DROP, DROP_TCP_OUT_OF_WINDOW: 1 }, 'far behind');
  t.same(c.send(false, ACK, C_ISN + 1, S_ISN + 5_000_000), { retval: XDP_DROP, DROP_TCP_OUT_OF_WINDOW: 1 }, 'ACK of data never sent');
  t.equal(c.tdEnd(0), end, 'the tracked sequence did not move');
  t.equal(c.state(), 'established');
  t.same(c.send(false, ACK, C_ISN + 1, S_ISN + 1, { len: 10 }), FWD, 'the connection goes on');
});

t.test('RST: exact closes; in-window inexact and out-of-window are dropped and counted', async (t) => {
  const c = established();
  c.send(false, ACK | PSH, C_ISN + 1, S_ISN + 1, { len: 500 });
  t.same(c.send(true, RST, S_ISN + 1 + 7, 0), { retval: XDP_DROP, DROP_TCP_RST_INEXACT: 1 }, 'in window, not the next sequence');
  t.same(c.send(true, RST | ACK, S_ISN + 1 + 9_000_000, C_ISN + 501), { retval: XDP_DROP, DROP_TCP_OUT_OF_WINDOW: 1 }, 'out of window');
  t.same(c.send(false, RST, C_ISN + 1 + 100, 0), { retval: XDP_DROP, DROP_TCP_RST_INEXACT: 1 }, 'from the client, inexact');
  t.equal(c.state(), 'established', 'none of them closed the session');
  t.same(c.send(true, RST | ACK, S_ISN + 1, C_ISN + 501), FWD, 'the exact next sequence');
  t.equal(c.state(), 'close');
  const owner = c.owner();
  t.equal(owner[SESSION.offset.tcp + TCP_CONN.offset.close_reason], closeReasons.XDPFW_CLOSE_TCP_RST, 'closed by RST');
  t.equal(owner[SESSION.offset.close_flags]! & dp.constants.tcp.closeEventWritten, dp.constants.tcp.closeEventWritten, 'close record written');
  t.same(c.counters(true), { packets: 2, bytes: 44 + 40 }, 'server direction: the SYN-ACK and the accepted RST, not the dropped ones');
});

t.test('RST answering the SYN: accepted when it acknowledges the SYN', async (t) => {
  const c = connection();
  c.send(false, SYN, C_ISN, 0);
  t.same(c.send(true, RST | ACK, 0, C_ISN + 77), { retval: XDP_DROP, DROP_TCP_RST_INEXACT: 1 }, 'acknowledging something else');
  t.equal(c.state(), 'syn-sent');
  t.same(c.send(true, RST | ACK, 0, C_ISN + 1), FWD, 'acknowledging the SYN (closed port)');
  t.equal(c.state(), 'close');
  t.same(c.send(true, SYN | ACK, S_ISN, C_ISN + 1), FWD, 'a late SYN-ACK on the closed session changes nothing');
  t.equal(c.state(), 'close');
});

t.test('packets that fit no state are dropped and counted', async (t) => {
  const c = connection();
  c.send(false, SYN, C_ISN, 0);
  t.same(c.send(true, ACK, S_ISN, C_ISN + 1), { retval: XDP_DROP, DROP_TCP_INVALID: 1 }, 'server ACK before its SYN-ACK');
  t.same(c.send(false, SYN | ACK, C_ISN, 1), { retval: XDP_DROP, DROP_TCP_INVALID: 1 }, 'SYN-ACK from the client');
  t.same(c.send(false, 0, C_ISN + 1, 0), { retval: XDP_DROP, DROP_TCP_INVALID: 1 }, 'no flags');
  t.equal(c.state(), 'syn-sent');
});

t.test('a RST the cached filter discards does not close the session', async (t) => {
  const c = established();
  c.setInputFilter(true, 'discard');
  t.same(c.send(true, RST | ACK, S_ISN + 1, C_ISN + 1), { retval: XDP_DROP, DROP_FILTER: 1 }, 'discarded by the filter');
  t.equal(c.state(), 'established', 'the state did not move');
  c.setInputFilter(true, 'none');
  t.same(c.send(false, ACK | PSH, C_ISN + 1, S_ISN + 1, { len: 10 }), FWD, 'the connection still works');
  t.same(c.send(true, RST | ACK, S_ISN + 1, C_ISN + 11), FWD, 'the same RST without the filter');
  t.equal(c.state(), 'close');
});

t.test('syn-check: a non-SYN first packet is dropped in XDP; no-syn-check hands it to the slow path', async (t) => {
  const miss = () => frame({ src: CLIENT4, dst: SERVER4, protocol: 'tcp', sport: 65000, dport: 80, tcpFlags: ACK });
  const run = () => deltas(() => native.progTestRun(dp.progs.rx, { data: miss(), ifindex: inIndex, rxQueue: 0, dataOutSize: 200 }));
  t.same(run(), { retval: XDP_DROP, DROP_TCP_SYN_CHECK: 1 }, 'syn-check (default)');
  dp.setTcpSettings({ noSynCheck: true, noSequenceCheck: false });
  t.same(run(), { retval: XDP_REDIRECT, SLOW_PATH: 1 }, 'no-syn-check: the slow path judges it');
  // A session the slow path installed from a non-SYN: picked up mid-stream, windows learnt.
  const c = connection();
  t.same(c.send(false, ACK, 5000, 7000, { len: 100 }), FWD, 'first packet, not a SYN');
  t.equal(c.state(), 'established', 'picked up as established');
  t.same(c.send(true, ACK, 7000, 5100, { len: 10 }), FWD, 'the other side follows');
  dp.setTcpSettings({ noSynCheck: false, noSequenceCheck: false });
  const d = connection();
  t.same(d.send(false, ACK, 5000, 7000, { len: 100 }), { retval: XDP_DROP, DROP_TCP_INVALID: 1 },
    'without no-syn-check a session cannot start without its SYN');
});

t.test('no-sequence-check: windows and RST sequence numbers are not enforced', async (t) => {
  const c = established();
  dp.setTcpSettings({ noSynCheck: false, noSequenceCheck: true });
  t.teardown(() => dp.setTcpSettings({ noSynCheck: false, noSequenceCheck: false }));
  t.same(c.send(false, ACK, C_ISN + 1 + 5_000_000, S_ISN + 1, { len: 100 }), FWD, 'far ahead passes');
  t.same(c.send(true, RST, S_ISN + 12345, 0), FWD, 'an inexact RST passes');
  t.equal(c.state(), 'close', 'and closes');
});

t.test('a connection stays valid through a bulk transfer with ACKs crossing', async (t) => {
  const c = established();
  let seq = C_ISN + 1;
  let drops = 0;
  for (let i = 0; i < 300; i++) {
    const d = c.send(false, ACK, seq, S_ISN + 1, { len: 1448, win: 502 });
    seq += 1448;
    // The server acknowledges two segments behind, opening its window as it goes.
    const a = c.send(true, ACK, S_ISN + 1, seq - 2 * 1448, { win: 3000 });
    if (d.retval !== XDP_REDIRECT || a.retval !== XDP_REDIRECT) drops++;
  }
  t.equal(drops, 0, 'no segment or ACK was judged out of window');
  t.equal(c.tdEnd(0), seq, 'the client side tracked to the last byte');
});

t.test('the session table: XDP closes, the table removes; the close event is logged once, by XDP or else by the table', async (t) => {
  const { SessionTable, NO_FILTERS, FIRST_PACKET_UNKNOWN } = await import('../../lib/session/table.js');
  const { VerdictRows } = await import('../../lib/session/verdict-rows.js');
  const table = new SessionTable(sessions, dp.constants.sessionFlags, { tcp: 1800, tcpInitial: 20, tcpClosing: 2, udp: 60, icmp: 60, other: 60 }, 100, dp.constants.tcp,
    new VerdictRows(dp.mapFd('xdpfw_verdict_rows'), dp.constants.maxVerdictRows));
  const heard: Array<{ reason: string; logged: boolean; packets: number }> = [];
  table.onClose((_s, reason, totals, logged) => heard.push({ reason, logged, packets: totals.packetsFromClient + totals.packetsFromServer }));
  const facts = {
    fromZone: 'trust', fromZoneId: 1, toZone: 'untrust', toZoneId: 2, policyId: 1, policyName: 'p', ingressIfindex: inIndex,
    egressIfindex: outIndex, local: false, boxConnection: false, logClose: true, icmpType: 0, first: FIRST_PACKET_UNKNOWN, filters: NO_FILTERS,
  };
  /** A connection installed by the table, opened and reset through XDP. */
  const resetConnection = (port: number) => {
    const spec = { src: CLIENT4, dst: SERVER4, protocol: 'tcp' as const, sport: port, dport: 80 };
    const run = (fromServer: boolean, flags: number, seq: number, ack: number) => native.progTestRun(dp.progs.rx, {
      data: frame(fromServer ? { ...spec, src: SERVER4, dst: CLIENT4, sport: 80, dport: port, tcpFlags: flags, tcpSeq: seq, tcpAck: ack }
        : { ...spec, tcpFlags: flags, tcpSeq: seq, tcpAck: ack }),
      ifindex: fromServer ? outIndex : inIndex, rxQueue: 0, dataOutSize: 200,
    });
    const key = Buffer.alloc(SESSION_KEY.size);
    key[SESSION_KEY.offset.family] = 2;
    key[SESSION_KEY.offset.protocol] = 6;
    key.writeUInt16BE(port, SESSION_KEY.offset.src_port);
    key.writeUInt16BE(80, SESSION_KEY.offset.dst_port);
    ipBytes(CLIENT4).copy(key, SESSION_KEY.offset.src_addr);
    ipBytes(SERVER4).copy(key, SESSION_KEY.offset.dst_addr);
    const installed = table.install(key, facts, 6);
    if (!installed.ok) throw new Error(installed.reason);
    run(false, SYN, C_ISN, 0);
    run(true, RST | ACK, 0, C_ISN + 1);
    return installed.session;
  };

  const logged = resetConnection(31001);
  t.equal(table.closedInDataplane(logged.id), logged, 'the XDP record finds its session');
  t.same(table.endOf(logged), { state: 'close', reason: 'TCP RST', logged: true });
  const listed: Array<{ sessionId: number; state: string }> = [];
  const names = { interfaceName: String, filterName: () => null, termName: () => null, tcpDirFlags: {} };
  await listSessions(table, names, () => true, {}, false, async (chunk) => void listed.push(...chunk));
  t.same(listed.find((v) => v.sessionId === logged.id)?.state, 'close', 'listed as closed until removed');
  table.close(logged, 'TCP RST');
  t.same(heard.at(-1), { reason: 'TCP RST', logged: true, packets: 2 }, 'removed: XDP logged it, the table does not again');

  const lost = resetConnection(31002);
  // As if the ring had been full: no record written.
  const v = Buffer.alloc(SESSION.size);
  native.mapLookup(sessions, sessionKey(lost.key), v);
  v[SESSION.offset.close_flags] = 0;
  native.mapUpdate(sessions, sessionKey(lost.key), v, 2);
  table.close(lost, 'TCP RST');
  t.same(heard.at(-1), { reason: 'TCP RST', logged: false, packets: 2 }, 'no record from XDP: the table logs it');
  t.notOk(native.mapLookup(sessions, sessionKey(lost.key), Buffer.alloc(SESSION.size)), 'the entry is gone');
});
