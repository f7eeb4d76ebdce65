// The syn-ack-ack-proxy screen (bpf/syn_ack_ack_proxy.h) in the compiled
// xdpfw_rx under BPF_PROG_RUN: sessions installed as the slow path installs
// them, handshakes run through the session stage, and the source's count of
// handshake-only sessions read back from xdpfw_proxy_pending; SYNs past the
// threshold dropped with a SCREEN_DROP event, given back when a session
// sends data, closes, or is removed by the slow path.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'ip neigh add 10.8.0.2 lladdr 02:00:00:00:08:02 dev in0 nud permanent',
  'ip neigh add fd08::2 lladdr 02:00:00:00:08:02 dev in0 nud permanent',
]);

const { default: t } = await import('tap');
const { compileText } = await import('../../lib/config/compile.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { SESSION, SESSION_KEY, TCP_CONN, TCP_DIR } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { EventCodec, readEventConstants, realtimeOffsetNs } = await import('../../lib/events/record.js');
const { SCREENS } = await import('../../lib/events/screens.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { screenStatsReport } = await import('../../lib/screens/stats.js');
const { HandshakeOnlyCounts } = await import('../../lib/screens/syn-ack-ack-proxy.js');
const { installSession, sessionKey } = await import('../helpers/session-entry.js');
const { frame, ipBytes } = await import('../helpers/packets.js');
const { XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const inIndex = native.ifNameToIndex('in0');
const outIndex = native.ifNameToIndex('out0');
const UNTRUST = 1;
dp.registerPort(inIndex, 0, UNTRUST);
dp.registerPort(outIndex, 1, 2);
const sockets = [new native.Xsk({ ifindex: inIndex, ifname: 'in0', queue: 0 }), new native.Xsk({ ifindex: outIndex, ifname: 'out0', queue: 0 })];
dp.registerSocket(0, 0, sockets[0]!.fd);
dp.registerSocket(1, 0, sockets[1]!.fd);
const codec = new EventCodec(readEventConstants(dp.objectPath));
const ring = new native.RingBuffer(dp.mapFd('xdpfw_events'), () => {});
t.teardown(() => {
  ring.close();
  for (const s of sockets) s.close();
  dp.close();
  purgePins(paths);
});

const sessions = dp.mapFd('xdpfw_sessions');
const counts = HandshakeOnlyCounts.of(dp);
const HANDSHAKE_ONLY = dp.constants.tcp.handshakeOnly;
const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;
const C_ISN = 1000;
const S_ISN = 900000;
const FWD = { retval: XDP_REDIRECT, FAST_FORWARD: 1 };
const TO_SLOW_PATH = { retval: XDP_REDIRECT, SLOW_PATH: 1 };

/** Zone untrust (in0, id 1) screened by `tcp { BODY }`, trust (out0, id 2). */
function useScreen(tcpBody: string, extra = ''): void {
  const r = compileText(`security {
    zones { security-zone untrust { interfaces { in0; } screen S; } security-zone trust { interfaces { out0; } } }
    screen { ids-option S { ${extra} tcp { ${tcpBody} } } }
  }`, 'proxy.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  applyScreens(dp, r.config);
  config = r.config;
}
let config: import('../../lib/config/types.js').CompiledConfig;

let nextPort = 20000;

function clientKey(client: string, sport: number, server: string): Buffer {
  const v6 = client.includes(':');
  const key = Buffer.alloc(SESSION_KEY.size);
  key[SESSION_KEY.offset.family] = v6 ? 10 : 2;
  key[SESSION_KEY.offset.protocol] = 6;
  key.writeUInt16BE(sport, SESSION_KEY.offset.src_port);
  key.writeUInt16BE(80, SESSION_KEY.offset.dst_port);
  ipBytes(client).copy(key, SESSION_KEY.offset.src_addr);
  ipBytes(server).copy(key, SESSION_KEY.offset.dst_addr);
  return key;
}

/** A connection from `client` installed as the slow path installs it (from untrust to trust). */
function connection(client = '10.8.0.2') {
  const server = client.includes(':') ? 'fd09::2' : '10.9.0.2';
  const sport = nextPort++;
  const key = clientKey(client, sport, server);
  installSession(sessions, dp.objectPath, {
    client: key, sessionId: BigInt(sport), ingress: inIndex, egress: outIndex, fromZone: UNTRUST, toZone: 2, tcp: false,
  });
  const c = {
    key,
    send(fromServer: boolean, flags: number, seq: number, ack: number, len = 0) {
      const data = frame({
        src: fromServer ? server : client, dst: fromServer ? client : server, protocol: 'tcp',
        sport: fromServer ? 80 : sport, dport: fromServer ? sport : 80,
        tcpFlags: flags, tcpSeq: seq, tcpAck: ack, tcpWindow: 65535, payload: Buffer.alloc(len),
      });
      return run(data, fromServer ? outIndex : inIndex);
    },
    handshake() {
      c.send(false, SYN, C_ISN, 0);
      c.send(true, SYN | ACK, S_ISN, C_ISN + 1);
      return c.send(false, ACK, C_ISN + 1, S_ISN + 1);
    },
    /** The owner entry's client side is marked handshake-only. */
    marked(): boolean {
      const v = Buffer.alloc(SESSION.size);
      if (!native.mapLookup(sessions, sessionKey(key), v)) throw new Error('no entry');
      return (v[SESSION.offset.tcp + TCP_CONN.offset.dir + TCP_DIR.offset.flags]! & HANDSHAKE_ONLY) !== 0;
    },
  };
  return c;
}

/** A first SYN from `client` (no session): what the screens make of it. */
function newSyn(client = '10.8.0.2') {
  const server = client.includes(':') ? 'fd09::2' : '10.9.0.2';
  return run(frame({ src: client, dst: server, protocol: 'tcp', sport: nextPort++, dport: 80, tcpFlags: SYN, tcpSeq: 5, tcpAck: 0 }), inIndex);
}

function run(data: Buffer, ifindex: number): Record<string, number> {
  const before = dp.readCounters();
  const r = native.progTestRun(dp.progs.rx, { data, ifindex, rxQueue: 0, dataOutSize: data.length + 64 });
  const out: Record<string, number> = { retval: r.retval };
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) out[name] = d;
  }
  return out;
}

/** The SCREEN_DROP events written since the last call (session closes left aside). */
function events() {
  const offset = realtimeOffsetNs();
  return ring.consume().map((r) => codec.decode(r, offset)).filter((ev) => ev.kind === 'screen-drop');
}

const pending = (client = '10.8.0.2') => counts.pending(UNTRUST, clientKey(client, 0, '10.9.0.2'));
const proxyDrops = () => screenStatsReport(dp, config, null, 'untrust').zones[0]!.screens['syn-ack-ack-proxy']?.drops ?? 0;

t.test('threshold 2: two handshake-only sessions, the third SYN is dropped and logged', async (t) => {
  useScreen('syn-ack-ack-proxy { threshold 2; }');
  events();
  const a = connection();
  t.same(a.handshake(), FWD, 'the handshake completes');
  t.ok(a.marked(), 'the session is marked handshake-only');
  t.equal(pending(), 1, 'one handshake-only session of the source');
  t.same(newSyn(), TO_SLOW_PATH, 'below the threshold a new SYN goes on');
  const b = connection();
  b.handshake();
  t.equal(pending(), 2);
  t.same(newSyn(), { retval: 1, DROP_SCREEN: 1 }, 'at the threshold the source\'s next SYN is dropped');
  t.equal(proxyDrops(), 1, 'counted for the zone and screen (show screen statistics, metrics)');
  const evs = events();
  t.equal(evs.length, 1, 'one event');
  t.match(evs[0], {
    kind: 'screen-drop', screen: 'syn-ack-ack-proxy', action: 'drop', sourceAddress: '10.8.0.2', destinationAddress: '10.9.0.2',
    destinationPort: 80, ingressZone: UNTRUST, protocol: 6,
  });
  t.equal(SCREENS['syn-ack-ack-proxy'].attackName, 'SYN-ACK-ACK Proxy DoS!', 'the Junos attack name');
  t.same(newSyn('10.8.0.3'), TO_SLOW_PATH, 'another source is not limited');

  t.same(a.send(true, ACK | PSH, S_ISN + 1, C_ISN + 1, 100), FWD, 'the server sends (a login prompt)');
  t.equal(pending(), 2, 'server data does not end handshake-only');
  t.same(a.send(false, ACK | PSH, C_ISN + 1, S_ISN + 101, 10), FWD, 'the client sends data');
  t.notOk(a.marked(), 'no longer handshake-only');
  t.equal(pending(), 1, 'its place is given back');
  t.same(newSyn(), TO_SLOW_PATH, 'the source may connect again');
  t.same(a.send(false, ACK | PSH, C_ISN + 11, S_ISN + 101, 10), FWD, 'more data');
  t.equal(pending(), 1, 'given back once only');

  t.same(b.send(true, RST | ACK, S_ISN + 1, C_ISN + 1), FWD, 'the server resets the other');
  t.equal(pending(), 0, 'a session that ends gives its place back');
});

t.test('a client FIN ends handshake-only; IPv6 sources are counted alike', async (t) => {
  useScreen('syn-ack-ack-proxy { threshold 1; }');
  const c = connection('fd08::2');
  c.handshake();
  t.equal(pending('fd08::2'), 1);
  t.same(newSyn('fd08::2'), { retval: 1, DROP_SCREEN: 1 }, 'threshold 1: the next IPv6 SYN is dropped');
  t.match(events(), [{ screen: 'syn-ack-ack-proxy', family: 'inet6', sourceAddress: 'fd08::2' }]);
  t.same(c.send(false, FIN | ACK, C_ISN + 1, S_ISN + 1), FWD, 'client FIN');
  t.equal(pending('fd08::2'), 0);
  t.same(newSyn('fd08::2'), TO_SLOW_PATH);
});

t.test('the default threshold is 512; data on the handshake ACK is never counted', async (t) => {
  useScreen('syn-ack-ack-proxy;');
  t.equal(config.screens.get('S')!.tcp.synAckAckProxy, 512);
  const c = connection('10.8.0.4');
  c.send(false, SYN, C_ISN, 0);
  c.send(true, SYN | ACK, S_ISN, C_ISN + 1);
  t.same(c.send(false, ACK | PSH, C_ISN + 1, S_ISN + 1, 20), FWD, 'handshake ACK carrying data');
  t.notOk(c.marked());
  t.equal(pending('10.8.0.4'), 0);
});

t.test('without the screen nothing is counted; alarm-without-drop lets the SYN through', async (t) => {
  useScreen('land;');
  const c = connection('10.8.0.5');
  c.handshake();
  t.notOk(c.marked(), 'a zone without the screen does not mark');
  t.equal(pending('10.8.0.5'), 0);

  useScreen('syn-ack-ack-proxy { threshold 1; }', 'alarm-without-drop;');
  events();
  connection('10.8.0.6').handshake();
  t.same(newSyn('10.8.0.6'), TO_SLOW_PATH, 'alarm-without-drop: the SYN goes on');
  t.match(events(), [{ screen: 'syn-ack-ack-proxy', action: 'alarm', sourceAddress: '10.8.0.6' }]);
});

t.test('a session the slow path removes while handshake-only gives its place back', async (t) => {
  useScreen('syn-ack-ack-proxy { threshold 1; }');
  const c = connection('10.8.0.7');
  c.handshake();
  t.equal(pending('10.8.0.7'), 1);
  t.same(newSyn('10.8.0.7'), { retval: 1, DROP_SCREEN: 1 });
  events();
  counts.release(UNTRUST, c.key);
  t.equal(pending('10.8.0.7'), 0);
  t.same(newSyn('10.8.0.7'), TO_SLOW_PATH);
  counts.release(UNTRUST, c.key);
  t.equal(pending('10.8.0.7'), 0, 'never below zero');
});
