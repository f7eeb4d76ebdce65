// Which interfaces get queue workers: none by default, those with several RX queues with
// XDPFW_QUEUE_WORKERS=multi, every one with =1.
import t from 'tap';
import { queueWorkersFor } from '../../lib/workers/pool.js';

t.test('by default the main thread keeps every socket', async (t) => {
  t.equal(queueWorkersFor(1, {}), false, 'one queue');
  t.equal(queueWorkersFor(8, {}), false, 'eight queues');
  t.equal(queueWorkersFor(8, { XDPFW_QUEUE_WORKERS: '0' }), false, '=0');
});

t.test('XDPFW_QUEUE_WORKERS=multi: workers for interfaces with several RX queues; =1: for all', async (t) => {
  t.equal(queueWorkersFor(1, { XDPFW_QUEUE_WORKERS: 'multi' }), false, '=multi, one queue: main thread');
  t.equal(queueWorkersFor(2, { XDPFW_QUEUE_WORKERS: 'multi' }), true, '=multi, two queues: workers');
  t.equal(queueWorkersFor(1, { XDPFW_QUEUE_WORKERS: '1' }), true, '=1: workers even for one queue');
});
