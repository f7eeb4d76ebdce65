// Events from the XDP programs: drains the xdpfw_events ring buffer into the
// producer. Records this build cannot read are counted, never fatal.
import { RingBuffer, type NativeError } from '../dataplane/native.js';
import { Faults } from '../util/faults.js';
import type { SecurityEvent } from './types.js';
import { realtimeOffsetNs, type EventCodec } from './record.js';

export class BpfEventSource {
  private readonly ring: RingBuffer;
  private undecodable = 0;
  private failure: NativeError | null = null;

  /**
   * Starts polling the ring buffer map `mapFd` (keep the map's object open meanwhile). The
   * callback runs from the event loop and never throws: a record that fails is counted in
   * `faults` and the batch goes on.
   */
  constructor(mapFd: number, codec: EventCodec, producer: { emit(ev: SecurityEvent): unknown }, faults: Faults = new Faults()) {
    // Handled after the poll phase's other callbacks (setImmediate): a session-close record
    // and the next connection's first packet are often ready in the same wake-up, and the
    // packet is waited for while the record is not.
    this.ring = new RingBuffer(mapFd, (records, err) => setImmediate(() => this.take(records, err, codec, producer, faults)));
  }

  private take(records: Buffer[], err: NativeError | null | undefined, codec: EventCodec, producer: { emit(ev: SecurityEvent): unknown }, faults: Faults): void {
    try {
      if (err) this.failure = err;
      // One offset per batch: the clocks drift apart only slowly (NTP slews).
      const offset = realtimeOffsetNs();
      for (const r of records) {
        let ev: SecurityEvent;
        try {
          ev = codec.decode(r, offset);
        } catch {
          this.undecodable++;
          continue;
        }
        try {
          producer.emit(ev);
        } catch (e) {
          faults.record('xdp-events', e, () => `${ev.kind} event record ${Buffer.from(r.subarray(0, 32)).toString('hex')}`);
        }
      }
    } catch (e) {
      faults.record('xdp-events', e, () => `batch of ${Array.isArray(records) ? records.length : 'no'} event records`);
    }
  }

  stats(): { undecodable: number; error: string | null } {
    return { undecodable: this.undecodable, error: this.failure?.message ?? null };
  }

  close(): void {
    this.ring.close();
  }
}
