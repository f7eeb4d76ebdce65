import type { HaConfig } from './types.js';
import type { HaRole } from './keepalived.js';

/** One redundancy group as the daemon knows it: configured here, and the role keepalived last reported. */
export interface HaGroupStatus {
  group: number;
  /** null: configured, but keepalived has not reported yet (or the group is not in the running config). */
  role: HaRole | null;
  /** When the role was reported (ISO time), null if never. */
  since: string | null;
  /** How many role reports the group has had since the daemon started. */
  transitions: number;
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
}

/** The roles keepalived's notify hooks report (`xdpfw ha role`), by redundancy group. */
export class HaRoles {
  private readonly roles = new Map<number, { role: HaRole; since: Date; transitions: number }>();

  report(group: number, role: HaRole, now = new Date()): { group: number; role: HaRole; previous: HaRole | null } {
    const before = this.roles.get(group);
    this.roles.set(group, { role, since: now, transitions: (before?.transitions ?? 0) + 1 });
    return { group, role, previous: before?.role ?? null };
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
          group: id, role: r?.role ?? null, since: r?.since.toISOString() ?? null, transitions: r?.transitions ?? 0,
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
  if (s.groups.length === 0) return head;
  return [
    head,
    ...s.groups.map((g) => `  services-redundancy-group ${g.group}: ${g.role ?? 'no role reported'}` +
      `${g.since ? ` since ${g.since}` : ''}${g.priority !== null ? `, priority ${g.priority}${g.preemption ? ', preemption' : ''}` : ''}` +
      `${g.virtualIps.length ? `, virtual IPs ${g.virtualIps.join(', ')}` : ''}`),
  ].join('\n');
}
