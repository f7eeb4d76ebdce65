// One AF_XDP socket per (interface, rx queue), registered in the XSKMAP and
// drained in batches whenever it becomes readable.
import type { Zone } from '../config/types.js';
import { Xsk } from '../dataplane/native.js';
import { frameDigest } from '../util/faults.js';
import { FrameReader } from './frame.js';
import { stripRxMeta } from './rx-meta.js';
import type { RxQueue, SlowPath } from './slowpath.js';

const BATCH = 64;
/** Frames larger than this are sent alone, never staged. */
const STAGED_FRAME_MAX = 3072;

export interface QueueSocketStats {
  ifname: string;
  queue: number;
  mode: string;
  rxDropped: number;
  rxInvalidDescs: number;
  rxRingFull: number;
  fillRingEmptyDescs: number;
  /** Frames this process could not send: the tx ring had no room. */
  txRingFull: number;
}

export class QueueSocket {
  private readonly xsk: Xsk;
  private readonly rx: RxQueue;
  private readonly descs = new Uint32Array(BATCH * 2);
  private txRingFull = 0;
  /** Frames staged for one send (first packets of a batch leaving by this interface). */
  private readonly staging = Buffer.alloc(BATCH * STAGED_FRAME_MAX);
  private readonly stagedLengths = new Uint32Array(BATCH);
  private stagedCount = 0;
  private stagedBytes = 0;

  /** frameSize: XDPFW_XSK_FRAME_SIZE, which XDP's size check for the slow path assumes. */
  constructor(readonly ifname: string, readonly ifindex: number, readonly queue: number, zone: Zone | null, frameSize?: number) {
    this.xsk = new Xsk({ ifindex, ifname, queue, ...(frameSize === undefined ? {} : { frameSize }) });
    const lengths = new Uint32Array(1);
    this.rx = {
      ifindex, queue, zone, reader: new FrameReader(this.xsk.umem), frames: Buffer.from(this.xsk.umem),
      // Replies (RST, ICMP unreachable) leave through the interface the offending packet came in on.
      transmit: (frame, length) => {
        lengths[0] = length;
        if (this.xsk.tx(frame, lengths, 1) === 1) return true;
        this.txRingFull++;
        return false;
      },
    };
  }

  get fd(): number {
    return this.xsk.fd;
  }

  /** The largest frame this socket takes (more than one UMEM frame when it is multi-buffer). */
  get maxPacket(): number {
    return this.xsk.maxPacket;
  }

  /** Sends a frame out of this interface; false if the tx ring had no room. */
  transmit(frame: Uint8Array, length: number): boolean {
    return this.rx.transmit(frame, length);
  }

  /** Queues a frame for sendStaged(); false: no room left in this batch (nothing queued). */
  stage(frame: Uint8Array, length: number): boolean {
    if (this.stagedCount === BATCH || length > STAGED_FRAME_MAX || this.stagedBytes + length > this.staging.length) return false;
    this.staging.set(frame.subarray(0, length), this.stagedBytes);
    this.stagedLengths[this.stagedCount++] = length;
    this.stagedBytes += length;
    return true;
  }

  /** Sends the staged frames with one call (one kick); returns how many the tx ring took, in order. */
  sendStaged(): number {
    const count = this.stagedCount;
    this.stagedCount = 0;
    this.stagedBytes = 0;
    if (count === 0) return 0;
    const sent = this.xsk.tx(this.staging, this.stagedLengths, count);
    this.txRingFull += count - sent;
    return sent;
  }

  setZone(zone: Zone | null): void {
    this.rx.zone = zone;
  }

  start(slowPath: SlowPath): void {
    this.xsk.poll(() => this.drain(slowPath));
  }

  /**
   * Handles everything queued; frames stay valid until the next rx(). Never throws: this runs
   * from the event loop, where an error would end the daemon. A frame that fails is dropped;
   * if the ring itself fails, the rest waits for the next wake-up.
   */
  drain(slowPath: SlowPath): number {
    let total = 0;
    for (;;) {
      let n = 0;
      try {
        n = this.xsk.rx(this.descs);
      } catch (err) {
        slowPath.faults.record('receive', err, () => `rx ring of ${this.ifname} queue ${this.queue}`);
        return total;
      }
      if (n === 0) return total;
      stripRxMeta(this.descs, n);
      try {
        slowPath.handleBatch(this.rx, this.descs, n);
      } catch (err) {
        slowPath.faults.record('receive', err, () => frameDigest(this.rx.frames, this.descs[0]!, this.descs[1]!, this.ifindex, this.queue));
      }
      total += n;
      // The ring was empty behind these: the next frame wakes the poll again.
      if (n < BATCH) return total;
    }
  }

  stats(): QueueSocketStats {
    const s = this.xsk.stats();
    return {
      ifname: this.ifname, queue: this.queue, mode: this.xsk.mode,
      // A multi-buffer packet too large to assemble is lost like one with an invalid descriptor.
      rxDropped: s.rxDropped, rxInvalidDescs: s.rxInvalidDescs + s.rxTooBig, rxRingFull: s.rxRingFull,
      fillRingEmptyDescs: s.fillRingEmptyDescs, txRingFull: this.txRingFull,
    };
  }

  close(): void {
    this.xsk.close();
  }
}
