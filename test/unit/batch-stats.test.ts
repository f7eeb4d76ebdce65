// The slow path's batch-size histogram: each batch lands in the bucket of its size.
import t from 'tap';
import { BatchStats, bucketLabel, wakeSummary } from '../../lib/slowpath/batch-stats.js';

t.test('bucket labels are the size ranges', async (t) => {
  t.same([0, 1, 2, 3, 4, 5, 6].map(bucketLabel), ['1', '2-3', '4-7', '8-15', '16-31', '32-63', '64+']);
});

t.test('each batch is counted once, in the bucket of its size', async (t) => {
  const s = new BatchStats();
  for (const n of [1, 1, 2, 3, 4, 7, 8, 63, 64, 64]) s.record(n);
  const r = s.report();
  t.equal(r.batches, 10);
  t.equal(r.frames, 217);
  t.equal(r.largest, 64);
  t.same(r.bySize, { '1': 2, '2-3': 2, '4-7': 2, '8-15': 1, '16-31': 0, '32-63': 1, '64+': 2 });
});

t.test('each wake-up wait lands in the bucket of its microseconds; the mean is shown', async (t) => {
  const s = new BatchStats();
  for (const us of [-3, 5, 8, 9, 100, 5000]) s.recordWake(us);
  const r = s.report();
  t.same(r.byWakeUs, { '<=8': 3, '<=16': 1, '<=32': 0, '<=64': 0, '<=128': 1, '<=256': 0, '<=512': 0, '<=1024': 0, '<=4096': 0, '>4096': 1 });
  t.equal(r.wakeUsTotal, 5122);
  t.match(wakeSummary(r), /^mean 853\.7 µs .*<=8: 3, <=16: 1, <=128: 1, >4096: 1\)$/);
  t.equal(wakeSummary(new BatchStats().report()), '-');
});
