// Pure logic of sessions: keys, their reverse, how people read them, TCP states.
import t from 'tap';
import { SESSION_KEY } from '../../lib/dataplane/layout.js';
import { describeKey, keyId, reverseKey } from '../../lib/session/flow-key.js';
import {
  TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpStates, isClosed, opensSession, timeoutClass,
} from '../../lib/session/tcp.js';
import { ipBytes } from '../helpers/packets.js';

function key(family: number, proto: number, src: string, sport: number, dst: string, dport: number): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[SESSION_KEY.offset.family] = family;
  k[SESSION_KEY.offset.protocol] = proto;
  k.writeUInt16BE(sport, SESSION_KEY.offset.src_port);
  k.writeUInt16BE(dport, SESSION_KEY.offset.dst_port);
  ipBytes(src).copy(k, SESSION_KEY.offset.src_addr);
  ipBytes(dst).copy(k, SESSION_KEY.offset.dst_addr);
  return k;
}

t.test('reverseKey swaps addresses and ports and nothing else', async (t) => {
  const k = key(2, 6, '192.0.2.10', 40112, '198.51.100.7', 443);
  const r = reverseKey(k, Buffer.alloc(SESSION_KEY.size));
  t.same(describeKey(r), {
    family: 'inet', protocol: 6, sourceAddress: '198.51.100.7', sourcePort: 443, destinationAddress: '192.0.2.10', destinationPort: 40112,
  });
  t.same(reverseKey(r, Buffer.alloc(SESSION_KEY.size)), k, 'reversing twice gives the key back');
  t.not(keyId(k), keyId(r), 'the two directions have different ids');
  t.equal(keyId(k), keyId(Buffer.from(k)), 'ids depend on bytes only');
});

t.test('IPv6 addresses are printed in RFC 5952 form', async (t) => {
  const cases: Array<[string, string]> = [
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['fd00:1::2', 'fd00:1::2'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['0:0:0:0:0:0:0:1', '::1'],
  ];
  for (const [input, printed] of cases) {
    t.equal(describeKey(key(10, 17, input, 1, '::1', 2)).sourceAddress, printed, input);
  }
});

t.test('only a bare SYN opens a TCP session', async (t) => {
  t.ok(opensSession(TCP_SYN));
  t.notOk(opensSession(TCP_SYN | TCP_ACK), 'SYN-ACK');
  t.notOk(opensSession(TCP_ACK));
  t.notOk(opensSession(TCP_SYN | TCP_FIN));
  t.notOk(opensSession(TCP_RST));
});

t.test('TCP states from the C enum: names, timeouts, closed states', async (t) => {
  const states = new TcpStates({
    XDPFW_TCP_NONE: 0, XDPFW_TCP_SYN_SENT: 1, XDPFW_TCP_SYN_RECV: 2, XDPFW_TCP_ESTABLISHED: 3, XDPFW_TCP_FIN_WAIT: 4,
    XDPFW_TCP_CLOSE_WAIT: 5, XDPFW_TCP_LAST_ACK: 6, XDPFW_TCP_TIME_WAIT: 7, XDPFW_TCP_CLOSE: 8,
  });
  t.equal(states.name(3), 'established');
  t.equal(states.value('time-wait'), 7);
  t.equal(states.name(200), 'none', 'an unknown byte reads as a fresh session');
  t.equal(timeoutClass('syn-recv'), 'initial');
  t.equal(timeoutClass('close-wait'), 'established', 'half-closed keeps the established timeout');
  t.equal(timeoutClass('time-wait'), 'closing');
  t.ok(isClosed('close'));
  t.notOk(isClosed('last-ack'));
  t.throws(() => new TcpStates({ XDPFW_TCP_NONE: 0 }), /lacks/, 'a C enum without a state TypeScript knows is refused');
});
