// The XDP programs' event budgets (bpf/events.h): the per-second rate of each
// kind they may write into the ring, set from the same rates as the slow
// path's token buckets, and what they suppressed once a budget was spent.
import type { Dataplane } from '../dataplane/dataplane.js';
import type { EnumCodec } from '../dataplane/enum-codec.js';
import { COUNTER_VALUE } from '../dataplane/layout.js';
import { btfEnum, mapLookup, mapUpdate } from '../dataplane/native.js';
import type { EventRates } from './rate-limit.js';
import { EVENT_KINDS, type EventKind } from './types.js';

/** The largest rate XDP counts up to: a window word counts in 32 bits. */
const MAX_XDP_RATE = 1_000_000_000;

export class XdpEventBudget {
  private readonly ratesFd: number;
  private readonly suppressedFd: number;

  constructor(private readonly dp: Dataplane, private readonly kinds: EnumCodec<EventKind>) {
    const slots = btfEnum(dp.objectPath, 'xdpfw_constants').XDPFW_EVENT_KIND_SLOTS;
    if (slots === undefined) throw new Error(`BPF object ${dp.objectPath} lacks XDPFW_EVENT_KIND_SLOTS`);
    for (const k of EVENT_KINDS) {
      if (kinds.value(k) >= slots) throw new Error(`event kind ${k} (${kinds.value(k)}) is past XDPFW_EVENT_KIND_SLOTS (${slots})`);
    }
    this.ratesFd = dp.mapFd('xdpfw_event_rates');
    this.suppressedFd = dp.mapFd('xdpfw_event_suppressed');
  }

  /** Every kind's budget per second and (zone, kind); unlimited rates become the largest XDP counts. */
  setRates(rates: EventRates): void {
    for (const k of EVENT_KINDS) {
      const v = Buffer.alloc(4);
      v.writeUInt32LE(Math.min(MAX_XDP_RATE, Math.max(1, Math.floor(rates[k]))));
      mapUpdate(this.ratesFd, u32(this.kinds.value(k)), v);
    }
  }

  /** Events the XDP programs did not write, over budget, by kind (every CPU summed). */
  suppressed(): Record<EventKind, number> {
    const stride = COUNTER_VALUE.size;
    const value = Buffer.alloc(stride * this.dp.cpus);
    const out = {} as Record<EventKind, number>;
    for (const k of EVENT_KINDS) {
      let n = 0n;
      if (mapLookup(this.suppressedFd, u32(this.kinds.value(k)), value)) {
        for (let cpu = 0; cpu < this.dp.cpus; cpu++) n += value.readBigUInt64LE(cpu * stride + COUNTER_VALUE.offset.packets);
      }
      out[k] = Number(n);
    }
    return out;
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}
