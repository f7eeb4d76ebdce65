// One AF_XDP socket per (interface, rx queue), registered in the XSKMAP and
// drained in batches whenever it becomes readable.
import type { Zone } from '../config/types.js';
import { Xsk } from '../dataplane/native.js';
import { FrameReader } from './frame.js';
import type { RxQueue, SlowPath } from './slowpath.js';

const BATCH = 64;

export interface QueueSocketStats {
  ifname: string;
  queue: number;
  mode: string;
  rxDropped: number;
  rxInvalidDescs: number;
  rxRingFull: number;
  fillRingEmptyDescs: number;
}

export class QueueSocket {
  private readonly xsk: Xsk;
  private readonly rx: RxQueue;
  private readonly descs = new Uint32Array(BATCH * 2);

  /** frameSize: XDPFW_XSK_FRAME_SIZE, which XDP's size check for the slow path assumes. */
  constructor(readonly ifname: string, readonly ifindex: number, readonly queue: number, zone: Zone | null, frameSize?: number) {
    this.xsk = new Xsk({ ifindex, ifname, queue, ...(frameSize === undefined ? {} : { frameSize }) });
    const lengths = new Uint32Array(1);
    this.rx = {
      ifindex, queue, zone, reader: new FrameReader(this.xsk.umem), frames: Buffer.from(this.xsk.umem),
      // Replies (RST, ICMP unreachable) leave through the interface the offending packet came in on.
      transmit: (frame, length) => {
        lengths[0] = length;
        return this.xsk.tx(frame, lengths, 1) === 1;
      },
    };
  }

  get fd(): number {
    return this.xsk.fd;
  }

  /** Sends a frame out of this interface; false if the tx ring had no room. */
  transmit(frame: Uint8Array, length: number): boolean {
    return this.rx.transmit(frame, length);
  }

  setZone(zone: Zone | null): void {
    this.rx.zone = zone;
  }

  start(slowPath: SlowPath): void {
    this.xsk.poll(() => this.drain(slowPath));
  }

  /** Handles everything queued; frames stay valid until the next rx(). */
  drain(slowPath: SlowPath): number {
    let total = 0;
    for (;;) {
      const n = this.xsk.rx(this.descs);
      if (n === 0) return total;
      for (let i = 0; i < n; i++) slowPath.handle(this.rx, this.descs[2 * i]!, this.descs[2 * i + 1]!);
      total += n;
    }
  }

  stats(): QueueSocketStats {
    const s = this.xsk.stats();
    return {
      ifname: this.ifname, queue: this.queue, mode: this.xsk.mode,
      rxDropped: s.rxDropped, rxInvalidDescs: s.rxInvalidDescs, rxRingFull: s.rxRingFull,
      fillRingEmptyDescs: s.fillRingEmptyDescs,
    };
  }

  close(): void {
    this.xsk.close();
  }
}
