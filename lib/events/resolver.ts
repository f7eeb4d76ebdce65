// Names for event ids from a compiled configuration and the attached
// interfaces. Filter and term names come from the positional ids of
// lib/config/filters.ts (FilterNames); ids the configuration lacks are null.
// With the daemon's identity registry (lib/identity/registry.ts), ids name
// what they named when the event was judged, also after a reload removed or
// moved it: an id is never given to anything else while an event carries it.
import { PREDEFINED_APPLICATIONS } from '../config/applications.js';
import {
  DEFAULT_POLICY_ID, DEFAULT_POLICY_NAME, GLOBAL_POLICY_SET, JUNOS_HOST_ZONE_ID, type ApplicationTerm, type CompiledConfig, type Policy,
} from '../config/types.js';
import { FilterNames } from '../filter/names.js';
import { JUNOS_HOST } from '../config/unsupported-report.js';
import type { IdentityRegistry } from '../identity/registry.js';
import type { NameResolver } from './formats/context.js';
import type { FlowEvent } from './types.js';

/** Predefined applications that name a port or ICMP type: what Junos reports for `application any`. */
const PREDEFINED_SPECIFIC: readonly ApplicationTerm[] = [...PREDEFINED_APPLICATIONS.values()]
  .flat()
  .filter((t) => t.destinationPortLow === t.destinationPortHigh || t.icmpType >= 0);

function matches(t: ApplicationTerm, ev: FlowEvent): boolean {
  if (t.protocol !== ev.protocol) return false;
  if (t.icmpType >= 0) return t.icmpType === ev.icmpType;
  return (
    ev.sourcePort >= t.sourcePortLow && ev.sourcePort <= t.sourcePortHigh &&
    ev.destinationPort >= t.destinationPortLow && ev.destinationPort <= t.destinationPortHigh
  );
}

export function configNameResolver(
  config: CompiledConfig,
  interfaces: ReadonlyMap<number, string>,
  identities?: IdentityRegistry,
): NameResolver {
  const zones = new Map(config.zones.map((z) => [z.id, z.name]));
  const policies = new Map<number, Policy>(config.policies.map((p) => [p.id, p]));
  const filters = new FilterNames(config.firewall);
  const ids = identities;
  return {
    zone: (id) => zones.get(id) ?? ids?.zone(id)?.name ?? (id === JUNOS_HOST_ZONE_ID ? JUNOS_HOST : null),
    interface: (ifindex) => interfaces.get(ifindex) ?? null,
    policy: (id) => (id === DEFAULT_POLICY_ID ? DEFAULT_POLICY_NAME : policies.get(id)?.name ?? ids?.policy(id)?.name ?? null),
    // Junos prints `(global)` for global and default policies; zone-pair rules belong to no named set.
    policySet: (id) => (id === DEFAULT_POLICY_ID || id >>> 16 === GLOBAL_POLICY_SET ? 'global' : null),
    filter: (id) => filters.filterName(id) ?? ids?.filter(id)?.name ?? null,
    term: (filterId, termId) => filters.termName(filterId, termId) ?? ids?.term(filterId, termId)?.name ?? null,
    application: (ev) => {
      const app = (policies.get(ev.policyId) ?? ids?.compiledPolicy(ev.policyId))?.match.application;
      const terms = app && !app.any ? app.terms : PREDEFINED_SPECIFIC;
      return terms.find((t) => matches(t, ev))?.application ?? null;
    },
  };
}
