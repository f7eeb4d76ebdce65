// The flood meters' settings (bpf/flood_meter.h): the budgets of `security flow
// slow-path-budget` as GCRA intervals, and the generation that makes deny-cache entries of
// an older configuration stale.
import type { SlowPathBudget } from '../config/types.js';
import { mapLookup, mapUpdate } from '../dataplane/native.js';
import { FLOOD_CLASSES, FLOOD_SETTINGS, type FloodClasses, readFloodClasses, verifyFloodLayouts } from './layout.js';

const NS_PER_SEC = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

/** What the settings map is written from: the budgets and the deny-cache generation. */
export function encodeFloodSettings(budget: SlowPathBudget, generation: number, classes: FloodClasses): Buffer {
  const v = Buffer.alloc(FLOOD_SETTINGS.size);
  const o = FLOOD_SETTINGS.offset;
  const interval = (rate: number): bigint => (rate > 0 ? NS_PER_SEC / BigInt(rate) : 0n);
  // The bucket may run burst-ms ahead of now: burst-ms worth of the rate passes at once.
  const burst = (rate: number): bigint => (rate > 0 ? BigInt(budget.burstMs) * NS_PER_MS : 0n);
  v.writeBigUInt64LE(interval(budget.perSource), o.source_interval_ns);
  v.writeBigUInt64LE(burst(budget.perSource), o.source_burst_ns);
  const rates: Array<[number, number]> = [[classes.syn, budget.tcpSyn], [classes.newFlow, budget.newFlow], [classes.exception, budget.exception]];
  for (const [slot, rate] of rates) {
    if (slot >= FLOOD_CLASSES) throw new Error(`flood class ${slot} past XDPFW_FLOOD_CLASSES`);
    v.writeBigUInt64LE(interval(rate), o.class_interval_ns + 8 * slot);
    v.writeBigUInt64LE(burst(rate), o.class_burst_ns + 8 * slot);
  }
  v.writeBigUInt64LE(BigInt(budget.denyCacheTimeout) * NS_PER_SEC, o.deny_ttl_ns);
  v.writeUInt32LE(generation >>> 0, o.generation);
  return v;
}

export class FloodMeters {
  private readonly classes: FloodClasses;
  private gen: number;

  constructor(objectPath: string, private readonly settingsFd: number) {
    verifyFloodLayouts(objectPath);
    this.classes = readFloodClasses(objectPath);
    // Pinned maps outlive the daemon: continue from the generation a previous run left, so its
    // deny entries (judged by a configuration that may differ) are stale from the start.
    const v = Buffer.alloc(FLOOD_SETTINGS.size);
    this.gen = mapLookup(settingsFd, u32(0), v) ? v.readUInt32LE(FLOOD_SETTINGS.offset.generation) : 0;
  }

  /** The generation deny entries are written with. */
  get generation(): number {
    return this.gen;
  }

  /** Writes the budgets; every flow denied until now is judged again on its next packet. */
  configure(budget: SlowPathBudget): void {
    const next = (this.gen + 1) >>> 0;
    mapUpdate(this.settingsFd, u32(0), encodeFloodSettings(budget, next, this.classes));
    this.gen = next;
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}
