// Accounting of XDP verdicts: every verdict the programs reach increments
// exactly one counter of enum xdpfw_counter, so over any run of frames the
// counters of each verdict class move by the number of runs that returned
// it. Counters that are no verdict (events lost) are named here too, so a
// counter nobody classified fails loudly instead of hiding a frame.
import { XDP_DROP, XDP_PASS, XDP_REDIRECT, XDP_TX } from '../../lib/dataplane/xdp-abi.js';

/** tx: sent back out of the interface it came in on (a proxy-arp / proxy-ndp answer). */
export type Verdict = 'drop' | 'pass' | 'redirect' | 'tx';

const PASS = new Set(['PASS_NON_IP', 'PASS_NEIGHBOR', 'FAST_LOCAL', 'FAST_KERNEL', 'INJECT_LOCAL', 'INJECT_KERNEL', 'ICMP_ERROR_LOCAL']);
const TX = new Set(['PROXY_ARP_ANSWER', 'PROXY_NDP_ANSWER']);
const REDIRECT = new Set(['FAST_FORWARD', 'SLOW_PATH', 'SESSION_REROUTED', 'INJECT_FORWARD', 'ICMP_ERROR_FORWARD', 'MTU_EXCEEDED', 'VLAN_TO_UNIT', 'VLAN_FROM_UNIT']);
/** Counters that count something other than a frame's verdict (events lost; why a frame went to the slow path). */
const NOT_A_VERDICT = /^EVENT_|^FILTER_PROGRAM_SLOW_PATH$|^EGRESS_LOOKUP$/;

/** The verdict class a counter counts, null for a non-verdict counter; throws for one nobody classified. */
export function counterVerdict(name: string): Verdict | null {
  if (PASS.has(name)) return 'pass';
  if (REDIRECT.has(name)) return 'redirect';
  if (TX.has(name)) return 'tx';
  // Shed by the flood meters, or a repeat of a flow denied moments ago: dropped in XDP.
  if (name.startsWith('DROP_') || name.startsWith('SLOW_PATH_SHED_') || name === 'INJECT_MISS' || name === 'DENY_CACHE_HIT') return 'drop';
  if (NOT_A_VERDICT.test(name)) return null;
  throw new Error(`XDP counter ${name} is not classified as a verdict or not (test/fuzz/xdp-accounting.ts)`);
}

/** The class of an XDP return code; null for ABORTED or anything else the programs must not return. */
export function retvalVerdict(retval: number): Verdict | null {
  return retval === XDP_DROP ? 'drop' : retval === XDP_PASS ? 'pass' : retval === XDP_REDIRECT ? 'redirect' : retval === XDP_TX ? 'tx' : null;
}

export type Tally = Record<Verdict, number>;
export const emptyTally = (): Tally => ({ drop: 0, pass: 0, redirect: 0, tx: 0 });

type Counters = Map<string, { packets: bigint }>;

/** Counter movement between two readings, by verdict class, and by counter name (non-zero only). */
export function counterDelta(before: Counters, after: Counters): { tally: Tally; byName: Record<string, number> } {
  const tally = emptyTally();
  const byName: Record<string, number> = {};
  for (const [name, v] of after) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d === 0) continue;
    byName[name] = d;
    const cls = counterVerdict(name);
    if (cls) tally[cls] += d;
  }
  return { tally, byName };
}

export const sameTally = (a: Tally, b: Tally): boolean => a.drop === b.drop && a.pass === b.pass && a.redirect === b.redirect && a.tx === b.tx;
