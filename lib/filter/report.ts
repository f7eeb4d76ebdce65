// `xdpfw show firewall [--filter F]`: every filter with where it is attached
// and its `count` counters. A counter's total is what the slow path counted
// (first packets, rejects) plus what XDP counted replaying cached verdicts.
import type { CompiledConfig, Family } from '../config/types.js';
import type { FilterEngine } from './engine.js';
import type { ProgramStats } from './programs.js';

export interface FirewallCounter {
  name: string;
  packets: number;
  bytes: number;
}

export interface FirewallFilterReport {
  name: string;
  family: Family;
  filterId: number;
  /** e.g. `trust0 input`, `lo0 input`. */
  attachedTo: string[];
  terms: Array<{ termId: number; name: string }>;
  counters: FirewallCounter[];
  /** Each term's policer (Junos names them `<policer>-<term>`): what it discarded. */
  policers: FirewallPolicer[];
}

export interface FirewallPolicer {
  /** `<policer>-<term>`, as Junos shows a term-specific policer. */
  name: string;
  policer: string;
  term: string;
  bandwidthLimit: number;
  burstSizeLimit: number;
  /** Packets and IP bytes beyond the limits, discarded. */
  packets: number;
  bytes: number;
}

export interface FirewallReport {
  filters: FirewallFilterReport[];
  /** The residual programs of per-packet terms XDP runs (lib/filter/programs.ts); absent without a dataplane. */
  programs?: ProgramStats;
}

/** Throws for a filter name the configuration does not have. */
export function firewallReport(
  config: CompiledConfig, engine: FilterEngine,
  xdpCounts: (indexes: number[]) => Map<number, { packets: number; bytes: number }>, only?: string, programs?: ProgramStats,
  xdpPolicerDrops: (indexes: number[]) => Map<number, { packets: number; bytes: number }> = () => new Map(),
): FirewallReport {
  const policers = engine.policers();
  const dropped = xdpPolicerDrops(policers.map((p) => p.index));
  const fw = config.firewall;
  if (only !== undefined && !fw.filters.some((f) => f.name === only)) throw new Error(`no firewall filter named ${only}`);
  const counts = engine.counts();
  const fast = xdpCounts(counts.map((c) => c.index));
  const attached = new Map<number, string[]>();
  const note = (id: number | null, where: string): void => {
    if (id !== null) attached.set(id, [...(attached.get(id) ?? []), where]);
  };
  for (const [ifname, families] of fw.interfaces) {
    for (const a of Object.values(families)) {
      note(a.input, `${ifname} input`);
      note(a.output, `${ifname} output`);
    }
  }
  note(fw.lo0.inet, 'lo0 input');
  note(fw.lo0.inet6, 'lo0 input');
  return {
    filters: fw.filters.filter((f) => only === undefined || f.name === only).map((f) => ({
      name: f.name,
      family: f.family,
      filterId: f.id,
      attachedTo: attached.get(f.id) ?? [],
      terms: f.terms.map((t) => ({ termId: t.id, name: t.name })),
      counters: counts.filter((c) => c.filterId === f.id).map((c) => ({
        name: c.counter,
        packets: c.packets + (fast.get(c.index)?.packets ?? 0),
        bytes: c.bytes + (fast.get(c.index)?.bytes ?? 0),
      })),
      policers: policers.filter((p) => p.filterId === f.id).map((p) => ({
        name: `${p.policer}-${p.term}`,
        policer: p.policer,
        term: p.term,
        bandwidthLimit: p.bandwidthLimit,
        burstSizeLimit: p.burstSizeLimit,
        packets: p.droppedPackets + (dropped.get(p.index)?.packets ?? 0),
        bytes: p.droppedBytes + (dropped.get(p.index)?.bytes ?? 0),
      })),
    })),
    ...(programs ? { programs } : {}),
  };
}

/** Junos's layout: a header per filter, then its counters. */
export function formatFirewall(r: FirewallReport): string {
  if (r.filters.length === 0) return 'No firewall filters.';
  const out: string[] = [];
  const p = r.programs;
  if (p) out.push(`Per-packet term programs: ${p.used} of ${p.capacity} in use, ${p.tableFull} found the table full (judged in the slow path)`);
  for (const f of r.filters) {
    out.push(`Filter: ${f.name} (family ${f.family}, id ${f.filterId})${f.attachedTo.length ? `, on ${f.attachedTo.join(', ')}` : ''}`);
    if (f.counters.length > 0) {
      out.push('Counters:');
      out.push(`${'Name'.padEnd(40)} ${'Bytes'.padStart(16)} ${'Packets'.padStart(16)}`);
      for (const c of f.counters) out.push(`${c.name.padEnd(40)} ${String(c.bytes).padStart(16)} ${String(c.packets).padStart(16)}`);
    }
    if (f.policers.length > 0) {
      out.push('Policers (packets beyond the limits, discarded):');
      out.push(`${'Name'.padEnd(40)} ${'Bytes'.padStart(16)} ${'Packets'.padStart(16)}`);
      for (const p of f.policers) out.push(`${p.name.padEnd(40)} ${String(p.bytes).padStart(16)} ${String(p.packets).padStart(16)}`);
    }
  }
  return out.join('\n');
}
