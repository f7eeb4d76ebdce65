// What the daemon needs of a slow-path socket, served by the main thread
// (lib/slowpath/receiver.ts) or by a queue worker (lib/workers/pool.ts).
import type { Zone } from '../config/types.js';
import type { QueueSocketStats } from '../slowpath/receiver.js';
import type { SlowPath, TxPort } from '../slowpath/slowpath.js';

export interface SlowPathSocket extends TxPort {
  readonly ifname: string;
  readonly ifindex: number;
  readonly queue: number;
  readonly maxPacket: number;
  setZone(zone: Zone | null): void;
  start(slowPath: SlowPath): void;
  stats(): QueueSocketStats;
  close(): void;
}
