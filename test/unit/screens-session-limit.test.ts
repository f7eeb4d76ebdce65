// SessionLimiter: Junos limit-session per source and per destination
// address, per zone, with alarm-without-drop and reloads.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { SESSION_KEY } from '../../lib/dataplane/layout.js';
import { SessionLimiter } from '../../lib/screens/session-limit.js';
import { ipBytes } from '../helpers/packets.js';

const K = SESSION_KEY.offset;

function key(src: string, dst: string): Buffer {
  const k = Buffer.alloc(SESSION_KEY.size);
  k[K.family] = src.includes(':') ? 10 : 2;
  k[K.protocol] = 6;
  k.writeUInt16BE(40000, K.src_port);
  k.writeUInt16BE(443, K.dst_port);
  ipBytes(src).copy(k, K.src_addr);
  ipBytes(dst).copy(k, K.dst_addr);
  return k;
}

/** Zone a (id 1) with `limits` inside `limit-session { }`, zone b (id 2) without a screen. */
function config(limits: string, extra = ''): CompiledConfig {
  const r = compileText(`security {
    zones { security-zone a { screen s; } security-zone b; }
    screen { ids-option s { ${extra} limit-session { ${limits} } } }
  }`, 'l.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

const A = 1;
const B = 2;

t.test('per source: the limit counts concurrent sessions, a release makes room', async (t) => {
  const l = new SessionLimiter(config('source-ip-based 2;'));
  t.equal(l.admit(A, key('10.0.0.1', '10.1.0.1')), null);
  t.equal(l.admit(A, key('10.0.0.1', '10.1.0.2')), null);
  t.same(l.admit(A, key('10.0.0.1', '10.1.0.3')), { screen: 'src-ip-session-limit', action: 'drop' }, 'a third from one source is refused');
  t.equal(l.admit(A, key('10.0.0.2', '10.1.0.3')), null, 'another source is not');
  t.same(l.active(A, key('10.0.0.1', '10.1.0.3')), { source: 2, destination: 1 }, 'the refused one was not counted');
  l.release(A, key('10.0.0.1', '10.1.0.1'));
  t.equal(l.admit(A, key('10.0.0.1', '10.1.0.3')), null, 'room again after a release');
  t.same(l.counts(A), { 'src-ip-session-limit': { drops: 1, alarms: 0 }, 'dst-ip-session-limit': { drops: 0, alarms: 0 } });
});

t.test('per destination, IPv6', async (t) => {
  const l = new SessionLimiter(config('destination-ip-based 1;'));
  t.equal(l.admit(A, key('fd00::1', 'fd01::1')), null);
  t.same(l.admit(A, key('fd00::2', 'fd01::1')), { screen: 'dst-ip-session-limit', action: 'drop' });
  t.equal(l.admit(A, key('fd00::2', 'fd01::2')), null, 'another destination');
  t.equal(l.admit(A, key('10.0.0.1', '10.1.0.1')), null, 'IPv4 addresses are other addresses');
});

t.test('zones count apart; a zone without limits is counted, and a reload may limit it', async (t) => {
  const l = new SessionLimiter(config('source-ip-based 1;'));
  t.equal(l.admit(A, key('10.0.0.1', '10.1.0.1')), null);
  for (let i = 0; i < 3; i++) t.equal(l.admit(B, key('10.0.0.1', `10.1.0.${i}`)), null, 'zone b has no limit');
  const reloaded = compileText(`security {
    zones { security-zone a; security-zone b { screen s; } }
    screen { ids-option s { limit-session { source-ip-based 3; } } }
  }`, 'l.conf');
  if (!reloaded.ok) throw new Error(reloaded.errors.join('\n'));
  l.configure(reloaded.config);
  t.same(l.admit(B, key('10.0.0.1', '10.1.0.9')), { screen: 'src-ip-session-limit', action: 'drop' }, "zone b's three sessions count against its new limit");
  t.equal(l.admit(A, key('10.0.0.1', '10.1.0.9')), null, 'zone a lost its limit');
});

t.test('alarm-without-drop admits and counts, and says so', async (t) => {
  const l = new SessionLimiter(config('source-ip-based 1; destination-ip-based 1;', 'alarm-without-drop;'));
  t.equal(l.admit(A, key('10.0.0.1', '10.1.0.1')), null);
  t.same(l.admit(A, key('10.0.0.1', '10.1.0.2')), { screen: 'src-ip-session-limit', action: 'alarm' });
  t.same(l.admit(A, key('10.0.0.2', '10.1.0.1')), { screen: 'dst-ip-session-limit', action: 'alarm' });
  t.same(l.active(A, key('10.0.0.1', '10.1.0.1')), { source: 2, destination: 2 }, 'all admitted');
  t.same(l.counts(A), { 'src-ip-session-limit': { drops: 0, alarms: 1 }, 'dst-ip-session-limit': { drops: 0, alarms: 1 } });
});

t.test('restored sessions count without being judged', async (t) => {
  const l = new SessionLimiter(config('source-ip-based 1;'));
  l.restore(A, key('10.0.0.1', '10.1.0.1'));
  l.restore(A, key('10.0.0.1', '10.1.0.2'));
  t.same(l.active(A, key('10.0.0.1', '10.1.0.3')).source, 2);
  t.same(l.admit(A, key('10.0.0.1', '10.1.0.3'))?.action, 'drop');
  t.equal(l.counts(B), undefined, 'nothing refused in zone b');
});

t.test('a million admissions and releases leave nothing behind', async (t) => {
  const l = new SessionLimiter(config('source-ip-based 1000;'));
  const k = key('10.0.0.1', '10.1.0.1');
  for (let i = 0; i < 1_000_000; i++) {
    k.writeUInt32BE(0x0a000000 + (i % 5000), K.src_addr);
    if (l.admit(A, k) === null) l.release(A, k);
  }
  t.same(l.active(A, k), { source: 0, destination: 0 });
});
