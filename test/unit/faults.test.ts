// Fault accounting of the input loops: every error counted by stage, reported at most once per
// interval and stage with a digest of the input, and never an exception of its own.
import t from 'tap';
import { FAULT_STAGES, Faults, frameDigest } from '../../lib/util/faults.js';

t.test('counted every time, reported once per interval and stage, with how many went unreported', async (t) => {
  let now = 0;
  const lines: string[] = [];
  let digests = 0;
  const f = new Faults({ write: (l) => lines.push(l), intervalMs: 10_000, now: () => now });
  const digest = (): string => `frame ${++digests}`;
  for (let i = 0; i < 5; i++) f.record('reject', new RangeError('boom'), digest);
  f.record('parse', new Error('bad'), digest);
  t.equal(lines.length, 2, 'one line per stage');
  t.equal(lines[0], 'xdpfw: error at reject, input dropped, loop goes on: RangeError: boom; frame 1\n');
  t.equal(lines[1], 'xdpfw: error at parse, input dropped, loop goes on: Error: bad; frame 2\n');
  t.equal(digests, 2, 'a digest is made only for a report');
  now = 9_999;
  f.record('reject', 'a string thrown', digest);
  t.equal(lines.length, 2);
  now = 10_000;
  f.record('reject', 'a string thrown', digest);
  t.equal(lines[2], 'xdpfw: error at reject, input dropped, loop goes on: a string thrown; frame 3 (5 more at this stage since the last report)\n');
  const counts = f.byStage();
  t.same(Object.keys(counts), [...FAULT_STAGES], 'every stage, zeros included');
  t.equal(counts.reject, 7);
  t.equal(counts.parse, 1);
  t.equal(counts.expiry, 0);
});

t.test('reporting never throws: a failing writer or digest leaves the count', async (t) => {
  const f = new Faults({ write: () => { throw new Error('EPIPE'); } });
  t.doesNotThrow(() => f.record('event', new Error('x'), () => 'd'));
  const g = new Faults({ write: () => undefined });
  t.doesNotThrow(() => g.record('event', new Error('x'), () => { throw new Error('digest'); }));
  t.equal(f.byStage().event, 1);
  t.equal(g.byStage().event, 1);
  const long = new Faults({ write: (l) => t.ok(l.length < 500, 'a long message is cut') });
  long.record('filter', new Error('y'.repeat(10_000)), () => 'd');
});

t.test('a frame digest: length, where it came in, the first bytes; never past the buffer', async (t) => {
  const umem = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) umem[i] = i;
  t.equal(frameDigest(umem, 16, 4, 3, 1), 'frame of 4 bytes on ifindex 3 queue 1: 10111213');
  t.equal(frameDigest(umem, 0, 1481, 7, 0), `frame of 1481 bytes on ifindex 7 queue 0: ${umem.subarray(0, 48).toString('hex')}...`);
  t.equal(frameDigest(umem, 250, 100, 1, 0), 'frame of 100 bytes on ifindex 1 queue 0: fafbfcfdfeff...');
  t.equal(frameDigest(umem, 1 << 30, 100, 1, 0), 'frame of 100 bytes on ifindex 1 queue 0: ...');
});
