// Events from the XDP programs: drains the xdpfw_events ring buffer into the
// producer. Records this build cannot read are counted, never fatal.
import { RingBuffer, type NativeError } from '../dataplane/native.js';
import type { EventProducer } from './producer.js';
import { realtimeOffsetNs, type EventCodec } from './record.js';

export class BpfEventSource {
  private readonly ring: RingBuffer;
  private undecodable = 0;
  private failure: NativeError | null = null;

  /** Starts polling the ring buffer map `mapFd` (keep the map's object open meanwhile). */
  constructor(mapFd: number, codec: EventCodec, producer: EventProducer) {
    this.ring = new RingBuffer(mapFd, (records, err) => {
      if (err) this.failure = err;
      // One offset per batch: the clocks drift apart only slowly (NTP slews).
      const offset = realtimeOffsetNs();
      for (const r of records) {
        try {
          producer.emit(codec.decode(r, offset));
        } catch {
          this.undecodable++;
        }
      }
    });
  }

  stats(): { undecodable: number; error: string | null } {
    return { undecodable: this.undecodable, error: this.failure?.message ?? null };
  }

  close(): void {
    this.ring.close();
  }
}
