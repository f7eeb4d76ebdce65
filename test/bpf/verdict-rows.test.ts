// Shared rows of cached filter verdicts, on the compiled programs and the real maps: the
// session table writes one row of xdpfw_verdict_rows for the flows judged alike, their entries
// name it, XDP replays each direction's verdicts from it (the client's on client packets, the
// server's on server packets), and the row is freed once the last session on it closes. A
// table started again on the pinned maps (a daemon restart) adopts the rows with the sessions.
// Runs in its own network namespace (TWO_PORTS).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS, 'ip neigh add 10.8.0.2 lladdr 02:00:00:00:08:02 dev in0 nud permanent']);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION, SESSION_KEY, VERDICT_ROW } = await import('../../lib/dataplane/layout.js');
const { sessionKey } = await import('../helpers/session-entry.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { FILTER_ACTION_CODE, NO_FILTER } = await import('../../lib/filter/descriptor.js');
const { SessionTable, FIRST_PACKET_UNKNOWN } = await import('../../lib/session/table.js');
const { VerdictRows, decodeRow } = await import('../../lib/session/verdict-rows.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');
type FilterDescriptor = import('../../lib/filter/descriptor.js').FilterDescriptor;
type SessionFilters = import('../../lib/session/types.js').SessionFilters;

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
t.teardown(() => {
  dp.close();
  purgePins(paths);
});
const IN = native.ifNameToIndex('in0');
const OUT = native.ifNameToIndex('out0');
dp.registerPort(IN, 0, 1);
dp.registerPort(OUT, 1, 2);
const sessionsFd = dp.mapFd('xdpfw_sessions');
const rowsFd = dp.mapFd('xdpfw_verdict_rows');
const TIMEOUTS = { tcp: 1800, tcpInitial: 20, tcpClosing: 2, udp: 60, icmp: 60, other: 60 };
const newTable = (rows = new VerdictRows(rowsFd, dp.constants.maxVerdictRows)) =>
  ({ rows, table: new SessionTable(sessionsFd, dp.constants.sessionFlags, TIMEOUTS, 100, dp.constants.tcp, rows) });

const accept = (filterId: number): FilterDescriptor => ({ filterId, termId: 1, counter: 0, tableId: 0, action: FILTER_ACTION_CODE.accept, flags: 0, rejectReason: 0, program: 0 });
const discard = (filterId: number): FilterDescriptor => ({ ...accept(filterId), termId: 2, action: FILTER_ACTION_CODE.discard });
/** Client packets accepted by in0's input filter, server packets discarded by out0's. */
const SHARED: SessionFilters = { client: { input: accept(7), output: NO_FILTER }, server: { input: discard(8), output: NO_FILTER } };

const CLIENT = '10.8.0.2';
const SERVER = '10.9.0.2';
function keyOf(sport: number): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[SESSION_KEY.offset.family] = 2;
  k[SESSION_KEY.offset.protocol] = 17;
  k.writeUInt16BE(sport, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(5000, SESSION_KEY.offset.dst_port);
  ipBytes(CLIENT).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(SERVER).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

function facts(filters: SessionFilters) {
  return {
    fromZone: 'trust', fromZoneId: 1, toZone: 'untrust', toZoneId: 2, policyId: 1, policyName: 'p', ingressIfindex: IN,
    egressIfindex: OUT, local: false, boxConnection: false, logClose: false, icmpType: 0, first: FIRST_PACKET_UNKNOWN, filters,
  };
}

/** The row an entry names. */
function rowOf(key: Buffer): number {
  const v = Buffer.alloc(SESSION.size);
  if (!native.mapLookup(sessionsFd, sessionKey(key), v)) throw new Error('no entry');
  return v.readUInt32LE(SESSION.offset.verdicts);
}

function readRow(row: number): SessionFilters {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(row);
  const v = Buffer.alloc(VERDICT_ROW.size);
  native.mapLookup(rowsFd, k, v);
  return decodeRow(v);
}

/** One UDP packet of the flow from its client (on in0) or its server (on out0): the verdict. */
function send(sport: number, fromServer: boolean): number {
  const data = frame(fromServer
    ? { src: SERVER, dst: CLIENT, protocol: 'udp', sport: 5000, dport: sport }
    : { src: CLIENT, dst: SERVER, protocol: 'udp', sport, dport: 5000 });
  return native.progTestRun(dp.progs.rx, { data, ifindex: fromServer ? OUT : IN, rxQueue: 0, dataOutSize: data.length + 64 }).retval;
}

function installed(table: InstanceType<typeof SessionTable>, sport: number, filters: SessionFilters) {
  const r = table.install(keyOf(sport), facts(filters), 17);
  if (!r.ok) throw new Error(r.reason);
  return r.session;
}

t.test('two flows through the same filters share one row; each direction replays its own verdicts; the row is freed with the last session', async (t) => {
  const { rows, table } = newTable();
  const a = installed(table, 41001, SHARED);
  const b = installed(table, 41002, { client: { ...SHARED.client }, server: { ...SHARED.server } });
  const row = rowOf(a.key);
  t.not(row, 0, 'the filtered flow names a row');
  t.equal(rowOf(a.reverse), row, 'its one entry, found from either direction, names it');
  t.equal(rowOf(b.key), row, 'a second flow with the same verdicts names the same row');
  t.equal(rows.inUse, 1, 'one row for both');
  t.equal(rows.sessionsOn(row), 2, 'counting two sessions');
  t.same(readRow(row), SHARED, 'the row holds the four verdicts');
  t.equal(send(41001, false), XDP_REDIRECT, 'a client packet meets the client\'s accept and is forwarded');
  t.equal(send(41001, true), XDP_DROP, 'a server packet meets the server\'s discard');

  const plain = installed(table, 41003, { client: { input: NO_FILTER, output: NO_FILTER }, server: { input: NO_FILTER, output: NO_FILTER } });
  t.equal(rowOf(plain.key), 0, 'a flow without filters names row 0 and takes no row');
  t.equal(rows.inUse, 1);

  table.close(a, 'cleared');
  t.equal(rows.sessionsOn(row), 1, 'one session closed: the row stays for the other');
  t.equal(send(41002, true), XDP_DROP, 'and the other flow still meets its verdicts');
  table.close(b, 'cleared');
  t.equal(rows.inUse, 0, 'the last session on it closed: the row is free');
  t.equal(rows.sessionsOn(row), 0);

  const other: SessionFilters = { client: { input: discard(9), output: NO_FILTER }, server: { input: NO_FILTER, output: NO_FILTER } };
  const c = installed(table, 41004, other);
  t.equal(rowOf(c.key), row, 'the freed row is handed out again');
  t.same(readRow(row), other, 'rewritten with the new verdicts');
  t.equal(send(41004, false), XDP_DROP, 'which XDP replays');
  t.equal(send(41004, true), XDP_REDIRECT, 'the server direction has none');
  table.clear();
  t.equal(rows.inUse, 0, 'clearing the table frees every row');
});

t.test('a reload that changes a session\'s filters moves it to another row and frees the old one', async (t) => {
  const { rows, table } = newTable();
  const a = installed(table, 41101, SHARED);
  const before = rowOf(a.key);
  const next: SessionFilters = { client: { input: discard(11), output: NO_FILTER }, server: SHARED.server };
  table.setFilters(a, next);
  const after = rowOf(a.key);
  t.not(after, before, 'a row of the new verdicts');
  t.equal(rowOf(a.reverse), after, 'named by its entry');
  t.equal(rows.sessionsOn(before), 0, 'the old row is free');
  t.equal(rows.inUse, 1);
  t.equal(send(41101, false), XDP_DROP, 'the client direction meets its new discard');
  table.clear();
});

t.test('a table started again on the pinned maps adopts the sessions with their rows', async (t) => {
  const first = newTable();
  const a = installed(first.table, 41201, SHARED);
  installed(first.table, 41202, SHARED);
  const row = rowOf(a.key);
  // A restart: a new table and row allocator on the same maps.
  const second = newTable();
  const names = { zoneName: (id: number) => `zone-${id}`, policyName: (id: number) => `policy-${id}`, logsClose: () => false };
  t.equal(second.table.adopt(names, 0), 2, 'both sessions adopted');
  t.equal(second.rows.sessionsOn(row), 2, 'their row counted twice');
  const adopted = second.table.lookup(a.key);
  t.same(adopted?.filters, SHARED, 'the adopted session\'s filters read from its row');
  const c = installed(second.table, 41203, SHARED);
  t.equal(rowOf(c.key), row, 'a new flow with the same verdicts joins the adopted row');
  const d = installed(second.table, 41204, { client: { input: discard(12), output: NO_FILTER }, server: SHARED.server });
  t.not(rowOf(d.key), row, 'a new combination never takes an adopted row');
  second.table.clear();
  t.equal(second.rows.inUse, 0, 'all freed once closed');
});

t.test('with every row taken, a flow needing a new combination is refused (counted as a full table), the others still install', async (t) => {
  // Rows 1 and 2 only.
  const { rows, table } = newTable(new VerdictRows(rowsFd, 3));
  installed(table, 41301, SHARED);
  installed(table, 41302, { client: { input: discard(21), output: NO_FILTER }, server: SHARED.server });
  const refused = table.install(keyOf(41303), facts({ client: { input: discard(22), output: NO_FILTER }, server: SHARED.server }), 17);
  t.same(refused, { ok: false, reason: 'session_table_full' }, 'a third combination has no row');
  t.equal(table.stats.refusedFull, 1, 'counted');
  t.notOk(native.mapLookup(sessionsFd, sessionKey(keyOf(41303)), Buffer.alloc(SESSION.size)), 'nothing of it in the map');
  t.ok(installed(table, 41304, SHARED), 'a flow of a held combination still installs');
  t.equal(rows.inUse, 2);
  table.clear();
});
