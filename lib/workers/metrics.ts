// Prometheus metrics of the slow path's queue workers, labelled by RX queue.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueueWorkerStats } from './pool.js';

type CounterField = 'rxFrames' | 'rxBatches' | 'backlogDrops' | 'txFrames' | 'txRingFull' | 'txLost' | 'deaths' | 'restarts';

const COUNTERS: Array<[string, string, CounterField]> = [
  ['xdpfw_queue_worker_rx_frames_total', 'Frames a queue worker received from its AF_XDP sockets', 'rxFrames'],
  ['xdpfw_queue_worker_rx_batches_total', 'Batches of frames a queue worker handed to the main thread', 'rxBatches'],
  ['xdpfw_queue_worker_backlog_drops_total', 'Frames a queue worker dropped because the main thread had too many batches to judge', 'backlogDrops'],
  ['xdpfw_queue_worker_tx_frames_total', 'Frames a queue worker sent', 'txFrames'],
  ['xdpfw_queue_worker_tx_ring_full_total', 'Frames a queue worker could not send: the AF_XDP tx ring was full', 'txRingFull'],
  ['xdpfw_queue_worker_tx_lost_total', 'Frames to send that could not be handed to a queue worker (it had ended)', 'txLost'],
  ['xdpfw_queue_worker_deaths_total', 'Times a queue worker ended while the daemon ran (its queue closed in XDP meanwhile)', 'deaths'],
  ['xdpfw_queue_worker_restarts_total', 'Times a queue worker was started again', 'restarts'],
];

export function registerQueueWorkerMetrics(registry: Registry, read: () => QueueWorkerStats[]): void {
  for (const [name, help, field] of COUNTERS) {
    new Counter({
      name, help, labelNames: ['queue'], registers: [registry],
      collect() {
        this.reset();
        for (const w of read()) this.inc({ queue: String(w.queue) }, w[field]);
      },
    });
  }
  new Gauge({
    name: 'xdpfw_queue_worker_up', help: 'Whether the queue worker of an RX queue runs (0: its queue is closed, XDP drops its new flows)',
    labelNames: ['queue'], registers: [registry],
    collect() {
      this.reset();
      for (const w of read()) this.set({ queue: String(w.queue) }, w.running ? 1 : 0);
    },
  });
}
