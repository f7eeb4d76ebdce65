// The roles keepalived's notify hooks report: hooks run in parallel, so a report from a
// hook started earlier that arrives later is not applied, and is counted.
import t from 'tap';
import { HaRoles, formatHa } from '../../lib/ha/roles.js';

t.test('reports apply in the order their hooks started, not the order they arrive', async (t) => {
  const r = new HaRoles();
  t.same(r.report(1, 'backup', 100), { group: 1, role: 'backup', previous: null, applied: true });
  // backup -> active -> backup within a second; the hook for "active" is the slowest to arrive.
  t.same(r.report(1, 'backup', 180), { group: 1, role: 'backup', previous: 'backup', applied: true });
  t.same(r.report(1, 'active', 140), { group: 1, role: 'backup', previous: 'backup', applied: false });
  const s = r.status(null);
  t.same(s.groups.map((g) => [g.group, g.role, g.transitions, g.stale]), [[1, 'backup', 2, 1]]);
  t.match(formatHa(s), /services-redundancy-group 1: backup since .* \(1 out-of-order report not applied\)/);
  t.same(r.report(2, 'active').applied, true, 'groups are ordered apart');
});

t.test('Prometheus: the current role of each group is 1, the reports applied and stale are counted', async (t) => {
  const { Registry } = await import('prom-client');
  const { registerHaMetrics } = await import('../../lib/ha/metrics.js');
  const roles = new HaRoles();
  const r = new Registry();
  registerHaMetrics(r, () => roles.status(null));
  roles.report(1, 'backup', 10);
  roles.report(1, 'active', 30);
  roles.report(1, 'backup', 20);
  const text = await r.metrics();
  t.match(text, /xdpfw_ha_role\{group="1",role="active"\} 1\n/);
  t.match(text, /xdpfw_ha_role\{group="1",role="backup"\} 0\n/);
  t.match(text, /xdpfw_ha_role_reports_total\{group="1",outcome="applied"\} 2\n/);
  t.match(text, /xdpfw_ha_role_reports_total\{group="1",outcome="stale"\} 1\n/);
});
