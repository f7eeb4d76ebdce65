// struct xdpfw_event: the TypeScript layout against the BTF of the compiled
// object, enum values from BTF, and encode/decode round trips.
import t from 'tap';
import { EVENT, verifyLayouts } from '../../lib/dataplane/layout.js';
import { btfEnum, btfStruct } from '../../lib/dataplane/native.js';
import { EventCodec, readEventConstants } from '../../lib/events/record.js';
import { SCREEN_NAMES } from '../../lib/events/screens.js';
import type { SecurityEvent } from '../../lib/events/types.js';
import { bpfObjectPath } from '../../lib/util/paths.js';
import { ALL, ALL6, CREATE, SCREEN } from './events-fixture.js';

const OBJECT = bpfObjectPath('xdpfw');

t.test('the TypeScript layout is the C struct', async (t) => {
  t.doesNotThrow(() => verifyLayouts(OBJECT));
  t.equal(btfStruct(OBJECT, 'xdpfw_event').size, EVENT.size);
  t.equal(EVENT.size, 136);
  t.equal(EVENT.offset.version, 0, 'the version comes first, so any reader can check it');
});

t.test('enum values come from BTF', async (t) => {
  const c = readEventConstants(OBJECT);
  t.equal(c.version, btfEnum(OBJECT, 'xdpfw_constants').XDPFW_EVENT_VERSION);
  t.equal(c.kinds.value('filter-log'), btfEnum(OBJECT, 'xdpfw_event_kind').XDPFW_EVENT_FILTER_LOG);
  t.equal(c.filterSources.value('cached-output'), btfEnum(OBJECT, 'xdpfw_filter_source').XDPFW_FILTER_CACHED_OUTPUT);
  t.equal(c.closeReasons.value('idle-timeout'), btfEnum(OBJECT, 'xdpfw_close_reason').XDPFW_CLOSE_IDLE_TIMEOUT);
  const screens = btfEnum(OBJECT, 'xdpfw_screen');
  t.equal(Object.keys(screens).length, SCREEN_NAMES.length + 1, 'every C screen has an attack name (plus NONE)');
  t.equal(c.screens.value('tcp-fin-no-ack'), screens.XDPFW_SCREEN_TCP_FIN_NO_ACK);
  const counters = btfEnum(OBJECT, 'xdpfw_counter');
  t.ok(counters.XDPFW_CNT_EVENT_RESERVE_FAIL! < counters.XDPFW_CNT__MAX!, 'reserve failures have a counter');
});

t.test('encode then decode gives the event back', async (t) => {
  const codec = new EventCodec(readEventConstants(OBJECT));
  const buf = Buffer.alloc(EVENT.size);
  const cases: SecurityEvent[] = [...ALL, ...ALL6, { ...CREATE, sessionId: 2 ** 40, ingressIfindex: 0xfffffff0, ingressZone: 0xffff }];
  for (const ev of cases) {
    buf.fill(0xa5);
    codec.encode(ev, buf);
    t.same(codec.decode(buf, 123n), ev, `${ev.kind} ${ev.family}`);
  }
});

t.test('records from BPF get wall-clock time from the monotonic stamp', async (t) => {
  const codec = new EventCodec(readEventConstants(OBJECT));
  const buf = Buffer.alloc(EVENT.size);
  codec.encode({ ...SCREEN, timestampNs: 0n, monotonicNs: 5_000_000_000n }, buf);
  const ev = codec.decode(buf, 1_772_446_585_500_000_000n);
  t.equal(ev.timestampNs, SCREEN.timestampNs);
  t.equal(ev.monotonicNs, 5_000_000_000n, 'the monotonic stamp is kept as recorded');
});

t.test('records this build cannot read are refused', async (t) => {
  const c = readEventConstants(OBJECT);
  const codec = new EventCodec(c);
  const good = Buffer.alloc(EVENT.size);
  codec.encode(SCREEN, good);
  const broken = (at: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  t.throws(() => codec.decode(good.subarray(0, EVENT.size - 1), 0n), /bytes, expected 136/);
  t.throws(() => codec.decode(broken(EVENT.offset.version, c.version + 1), 0n), /version/);
  t.throws(() => codec.decode(broken(EVENT.offset.kind, 0), 0n), /unknown kind 0/);
  t.throws(() => codec.decode(broken(EVENT.offset.family, 7), 0n), /unknown family 7/);
  t.throws(() => codec.decode(broken(EVENT.offset.action, c.actions.value('permit')), 0n), /action permit does not fit kind screen-drop/);
  const screen = Buffer.from(good);
  screen.writeUInt32LE(999, EVENT.offset.screen_id);
  t.throws(() => codec.decode(screen, 0n), /unknown screen 999/);
  t.throws(() => codec.encode({ ...SCREEN, sourceAddress: '2001:db8::1' }, Buffer.alloc(EVENT.size)), /not an IPv4 address/);
});
