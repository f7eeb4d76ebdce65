import { Counter, Gauge, type Registry } from 'prom-client';
import { HA_ROLES } from './keepalived.js';
import type { HaStatus } from './roles.js';

/**
 * The pair in Prometheus: per services redundancy group, 1 for the role keepalived last
 * reported (0 for the others), and the role reports taken or not applied (out of order).
 */
export function registerHaMetrics(r: Registry, read: () => HaStatus | null): void {
  new Gauge({
    name: 'xdpfw_ha_role', help: 'Role of this box in a services redundancy group as keepalived last reported it (1 for the current role)',
    labelNames: ['group', 'role'], registers: [r],
    collect() {
      this.reset();
      for (const g of read()?.groups ?? []) {
        for (const role of HA_ROLES) this.set({ group: String(g.group), role }, g.role === role ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'xdpfw_ha_role_reports_total', help: 'Role reports of keepalived\'s notify hooks: applied, or stale (a later one came first)',
    labelNames: ['group', 'outcome'], registers: [r],
    collect() {
      this.reset();
      for (const g of read()?.groups ?? []) {
        this.inc({ group: String(g.group), outcome: 'applied' }, g.transitions);
        this.inc({ group: String(g.group), outcome: 'stale' }, g.stale);
      }
    },
  });
  const sessions = () => read()?.sessions;
  new Counter({
    name: 'xdpfw_ha_sessions_mirrored_total', help: 'Sessions written into the kernel conntrack table for the peer (new ones; refreshes apart)',
    registers: [r], collect() { this.reset(); this.inc(sessions()?.mirror?.mirrored ?? 0); },
  });
  new Counter({
    name: 'xdpfw_ha_sessions_not_mirrored_total', help: 'Mirror writes lost: queue full (the helper or kernel too slow), refused by the kernel, or a protocol without ports',
    labelNames: ['reason'], registers: [r],
    collect() {
      this.reset();
      const m = sessions()?.mirror;
      if (!m) return;
      this.inc({ reason: 'queue_full' }, m.queueDrops);
      this.inc({ reason: 'kernel_error' }, m.kernelErrors);
      this.inc({ reason: 'unsupported_protocol' }, m.unsupported);
    },
  });
  new Gauge({
    name: 'xdpfw_ha_sessions_received', help: 'Entries conntrackd\'s external cache holds from the peer',
    registers: [r], collect() { this.reset(); const v = sessions()?.received; if (v !== null && v !== undefined) this.set(v); },
  });
  new Counter({
    name: 'xdpfw_ha_sessions_adopted_total', help: 'Sessions of the peer adopted on becoming active, and refused (judged against the running config)',
    labelNames: ['outcome'], registers: [r],
    collect() {
      this.reset();
      const s = sessions();
      if (!s) return;
      this.inc({ outcome: 'adopted' }, s.adoptedTotal);
      this.inc({ outcome: 'refused' }, s.refusedTotal);
    },
  });
  new Gauge({
    name: 'xdpfw_ha_conntrack_entries', help: 'The kernel conntrack table of the namespace: entries and nf_conntrack_max',
    labelNames: ['of'], registers: [r],
    collect() {
      this.reset();
      const t = sessions()?.mirror?.conntrack;
      if (!t) return;
      this.set({ of: 'count' }, t.count);
      this.set({ of: 'max' }, t.max);
    },
  });
}
