// Which interfaces get queue workers: several RX queues do, one does not, and
// XDPFW_QUEUE_WORKERS overrides either way.
import t from 'tap';
import { queueWorkersFor } from '../../lib/workers/pool.js';

t.test('auto: workers for an interface with several RX queues only', async (t) => {
  t.equal(queueWorkersFor(1, {}), false, 'one queue: main thread');
  t.equal(queueWorkersFor(2, {}), true, 'two queues: workers');
  t.equal(queueWorkersFor(8, { XDPFW_QUEUE_WORKERS: 'auto' }), true, 'eight queues: workers');
});

t.test('XDPFW_QUEUE_WORKERS=1 and =0 decide for every interface', async (t) => {
  t.equal(queueWorkersFor(1, { XDPFW_QUEUE_WORKERS: '1' }), true, '=1: workers even for one queue');
  t.equal(queueWorkersFor(4, { XDPFW_QUEUE_WORKERS: '0' }), false, '=0: main thread even for four');
});
