// Interface, clock and CPU helpers.
import { cpus } from 'node:os';
import t from 'tap';
import {
  ifIndexToName,
  ifNameToIndex,
  ifQueueCount,
  monotonicNs,
  numPossibleCpus,
  realtimeNs,
} from '../../lib/dataplane/native.js';
import { thrown } from './fixture.js';

t.test('interface name <-> index', (t) => {
  t.equal(ifNameToIndex('lo'), 1);
  t.equal(ifIndexToName(1), 'lo');
  const e = thrown(() => ifNameToIndex('xdpfw-nope0'));
  t.equal(e.code, 'ENODEV');
  t.equal(e.errno, 19);
  t.match(e.message, /^ifNameToIndex: No such device \(xdpfw-nope0\)$/);
  t.ok(e instanceof Error);
  t.equal(e.name, 'NativeError');
  t.ok(thrown(() => ifIndexToName(0x7ffffff0)).code.startsWith('E'));
  t.equal(thrown(() => ifIndexToName(-1)).code, 'EINVAL');
  t.end();
});

t.test('queue count of loopback', (t) => {
  t.equal(ifQueueCount('lo'), 1);
  t.equal(thrown(() => ifQueueCount('xdpfw-nope0')).code, 'ENODEV');
  t.end();
});

t.test('clocks', (t) => {
  const a = monotonicNs();
  const h = process.hrtime.bigint(); // libuv also reads CLOCK_MONOTONIC
  const b = monotonicNs();
  t.type(a, 'bigint');
  t.ok(b >= a);
  t.ok(h >= a && h <= b, 'same clock as process.hrtime');
  const drift = realtimeNs() / 1_000_000n - BigInt(Date.now());
  t.ok(drift >= -1000n && drift <= 1000n, 'realtime matches Date.now()');
  t.end();
});

t.test('possible CPUs cover the online ones', (t) => {
  t.ok(numPossibleCpus() >= cpus().length);
  t.end();
});
