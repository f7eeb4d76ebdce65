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
}
