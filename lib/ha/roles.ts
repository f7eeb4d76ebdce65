import { readFileSync } from 'node:fs';
import type { HaConfig } from './types.js';
import type { HaRole } from './keepalived.js';
import type { HaSessionsStatus } from './sessions.js';

/** One redundancy group as the daemon knows it: configured here, and the role keepalived last reported. */
export interface HaGroupStatus {
  group: number;
  /** null: configured, but keepalived has not reported yet (or the group is not in the running config). */
  role: HaRole | null;
  /** When the role was reported (ISO time), null if never. */
  since: string | null;
  /** How many role reports the group has had since the daemon started. */
  transitions: number;
  /** Reports that arrived after a later one (hooks run in parallel) and were not applied. */
  stale: number;
  priority: number | null;
  preemption: boolean | null;
  virtualIps: string[];
}

export interface HaStatus {
  /** false: the running config has no high-availability (the daemon still records reported roles). */
  configured: boolean;
  localId: number | null;
  peer: { id: number; ip: string; interface: string; advertMs: number } | null;
  groups: HaGroupStatus[];
  /** Sessions mirrored into the conntrack table, received from the peer, adopted (the daemon fills it in). */
  sessions?: HaSessionsStatus;
}

/** When this process started, in clock ticks since boot (/proc/self/stat field 22): orders notify hooks. */
export function processStartTicks(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const v = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The roles keepalived's notify hooks report (`xdpfw ha role`), by redundancy group. */
export class HaRoles {
  private readonly roles = new Map<number, { role: HaRole; since: Date; transitions: number; stale: number; startedTicks: number }>();

  /**
   * A notify hook's report. `startedTicks` orders reports by when keepalived started their
   * hooks: a report from a hook started before the one applied last is stale (not applied).
   */
  report(group: number, role: HaRole, startedTicks = Number.MAX_SAFE_INTEGER, now = new Date()): { group: number; role: HaRole; previous: HaRole | null; applied: boolean } {
    const before = this.roles.get(group);
    if (before && startedTicks < before.startedTicks) {
      before.stale++;
      return { group, role: before.role, previous: before.role, applied: false };
    }
    this.roles.set(group, { role, since: now, transitions: (before?.transitions ?? 0) + 1, stale: before?.stale ?? 0, startedTicks });
    return { group, role, previous: before?.role ?? null, applied: true };
  }

  status(ha: HaConfig | null): HaStatus {
    const ids = new Set([...(ha?.groups.map((g) => g.id) ?? []), ...this.roles.keys()]);
    return {
      configured: ha !== null,
      localId: ha?.localId ?? null,
      peer: ha ? { id: ha.peer.id, ip: ha.peer.ip.text, interface: ha.peer.interface, advertMs: ha.peer.advertMs } : null,
      groups: [...ids].sort((a, b) => a - b).map((id) => {
        const g = ha?.groups.find((x) => x.id === id);
        const r = this.roles.get(id);
        return {
          group: id, role: r?.role ?? null, since: r?.since.toISOString() ?? null, transitions: r?.transitions ?? 0, stale: r?.stale ?? 0,
          priority: g?.priority ?? null, preemption: g?.preemption ?? null, virtualIps: g?.virtualIps.map((v) => `${v.prefix} on ${v.interface}`) ?? [],
        };
      }),
    };
  }
}

export function formatHa(s: HaStatus): string {
  const head = s.configured && s.peer
    ? `High availability: local-id ${s.localId}, peer-id ${s.peer.id} at ${s.peer.ip} on ${s.peer.interface}, adverts every ${s.peer.advertMs} ms`
    : 'High availability: not configured';
  const sessions = s.sessions ? formatHaSessions(s.sessions) : [];
  if (s.groups.length === 0 && sessions.length === 0) return head;
  return [
    head,
    ...sessions,
    ...s.groups.map((g) => `  services-redundancy-group ${g.group}: ${g.role ?? 'no role reported'}` +
      `${g.since ? ` since ${g.since}` : ''}${g.priority !== null ? `, priority ${g.priority}${g.preemption ? ', preemption' : ''}` : ''}` +
      `${g.virtualIps.length ? `, virtual IPs ${g.virtualIps.join(', ')}` : ''}` +
      `${g.stale ? ` (${g.stale} out-of-order report${g.stale > 1 ? 's' : ''} not applied)` : ''}`),
  ].join('\n');
}

function formatHaSessions(s: HaSessionsStatus): string[] {
  const lines: string[] = [];
  const m = s.mirror;
  if (m) {
    lines.push(`  Sessions mirrored into the conntrack table: ${m.mirrored} (${m.tracked} now, ${m.refreshed} refreshes, ${m.deleted} deleted)` +
      `; not mirrored: ${m.queueDrops} queue full, ${m.kernelErrors} refused by the kernel${m.lastErrno ? ` (last errno ${m.lastErrno})` : ''}, ${m.unsupported} without ports`);
    lines.push(m.conntrack
      ? `  Conntrack table: ${m.conntrack.count} of nf_conntrack_max ${m.conntrack.max}${m.conntrack.nearlyFull ? ' (NEARLY FULL: raise net.netfilter.nf_conntrack_max)' : ''}`
      : '  Conntrack table: nf_conntrack not loaded');
    if (m.helperError) lines.push(`  Mirror helper: ${m.helperError} (${m.helperRestarts} restarts)`);
  } else {
    lines.push(`  Sessions not mirrored${s.mirrorError ? `: ${s.mirrorError}` : ''}`);
  }
  lines.push(`  Received from the peer (conntrackd external cache): ${s.received ?? 'unknown'}`);
  const a = s.adoption;
  lines.push(a
    ? `  Adopted on becoming active: ${s.adoptedTotal} (refused ${s.refusedTotal}) in ${s.adoptions} adoption${s.adoptions > 1 ? 's' : ''}; last at ${a.at}: ` +
      `${a.entries} entries, ${a.adopted} adopted, ${a.present} already here, refused ${Object.entries(a.refused).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}, ` +
      `commit ${a.committed === null ? 'not asked' : a.committed ? `${a.commitMs} ms` : `failed: ${a.commitError}`}, ${a.durationMs} ms in all`
    : '  Adopted on becoming active: none yet');
  return lines;
}
