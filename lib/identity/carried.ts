// Which ids the live sessions and the kept events still carry: a retired
// identity is only forgotten (its id freed) when nothing here names it.
import type { SecurityEvent } from '../events/types.js';
import type { Session } from '../session/types.js';
import type { Carried } from './registry.js';

export function carriedIds(sessions: Iterable<Session>, events: Iterable<SecurityEvent>): Carried {
  const zones = new Set<number>();
  const policies = new Set<number>();
  const filters = new Set<number>();
  for (const s of sessions) {
    zones.add(s.fromZoneId);
    zones.add(s.toZoneId);
    policies.add(s.policyId);
    for (const d of [s.filters.client, s.filters.server]) {
      filters.add(d.input.filterId);
      filters.add(d.output.filterId);
    }
  }
  for (const ev of events) {
    zones.add(ev.ingressZone);
    if (ev.kind === 'screen-drop') continue;
    zones.add(ev.egressZone);
    if (ev.kind === 'filter-log') filters.add(ev.filterId);
    else policies.add(ev.policyId);
  }
  return { zone: (id) => zones.has(id), policy: (id) => policies.has(id), filter: (id) => filters.has(id) };
}
