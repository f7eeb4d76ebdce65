// `xdpfw show policies` and `xdpfw match-policies`.
import { parsePrefix } from '../config/ip.js';
import { PROTOCOL_NUMBERS } from '../config/protocols.js';
import { type CompiledConfig, DEFAULT_POLICY_ID } from '../config/types.js';
import type { MatchPoliciesArgs } from '../control/protocol.js';
import type { PolicyEngine } from '../policy/engine.js';
import { JUNOS_HOST } from '../config/unsupported-report.js';

/** What admits a flow to the box that no `to-zone junos-host` policy decides (as sessions name it). */
const HOST_INBOUND = 'host-inbound-traffic';

export interface PolicyView {
  id: number;
  name: string;
  fromZone: string;
  toZone: string;
  sourceAddresses: string[];
  destinationAddresses: string[];
  applications: string[];
  action: string;
  log: { sessionInit: boolean; sessionClose: boolean };
  count: boolean;
  /** New sessions permitted, or first packets denied, by this policy since it was loaded. */
  hits: number;
}

export interface PoliciesReport {
  policies: PolicyView[];
  defaultPolicy: string;
  defaultPolicyHits: number;
}

export function policiesReport(config: CompiledConfig, engine: PolicyEngine): PoliciesReport {
  return {
    policies: config.policies.map((p) => ({
      id: p.id,
      name: p.name,
      fromZone: p.fromZone ?? 'global',
      toZone: p.toZone ?? 'global',
      sourceAddresses: p.match.sourceAddresses,
      destinationAddresses: p.match.destinationAddresses,
      applications: p.match.applications,
      action: p.action,
      log: { sessionInit: p.logInit, sessionClose: p.logClose },
      count: p.count,
      hits: engine.hits(p.id),
    })),
    defaultPolicy: config.defaultPolicy,
    defaultPolicyHits: engine.hits(DEFAULT_POLICY_ID),
  };
}

export interface MatchResult {
  policy: string;
  policyId: number;
  action: string;
  fromZone: string;
  toZone: string;
  /** The application (member) that matched, if the policy names applications. */
  application: string | null;
}

function addressBytes(text: string, what: string): { family: 'inet' | 'inet6'; bytes: Uint8Array } {
  const p = parsePrefix(text);
  if (typeof p === 'string' || p.length !== (p.family === 'inet' ? 32 : 128)) {
    throw new Error(`${what}: '${text}' is not an IP address`);
  }
  const bytes = new Uint8Array(p.words.length * 4);
  const view = new DataView(bytes.buffer);
  p.words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, false));
  return { family: p.family, bytes };
}

/** The policy that would decide a flow, as Junos `show security match-policies` tells. */
export function matchPolicies(engine: PolicyEngine, config: CompiledConfig, q: MatchPoliciesArgs): MatchResult {
  for (const z of [q.fromZone, q.toZone]) {
    if (!config.zones.some((x) => x.name === z) && !(z === q.toZone && z === JUNOS_HOST)) throw new Error(`no zone named '${z}'`);
  }
  const src = addressBytes(q.sourceIp, 'source-ip');
  const dst = addressBytes(q.destinationIp, 'destination-ip');
  if (src.family !== dst.family) throw new Error('source-ip and destination-ip are of different families');
  const protocol = /^\d+$/.test(q.protocol) ? Number(q.protocol) : PROTOCOL_NUMBERS.get(q.protocol);
  if (protocol === undefined || protocol > 255) throw new Error(`unknown protocol '${q.protocol}'`);
  const query = {
    fromZone: q.fromZone, toZone: q.toZone, family: src.family, protocol,
    source: src.bytes, destination: dst.bytes,
    sourcePort: q.sourcePort ?? 0, destinationPort: q.destinationPort ?? 0,
  };
  // To the box: its own policies, else what host-inbound-traffic admits stays admitted.
  const d = q.toZone === JUNOS_HOST
    ? engine.lookupHost(query) ?? { policyName: HOST_INBOUND, policyId: DEFAULT_POLICY_ID, action: 'permit', application: null }
    : engine.lookup(query);
  return {
    policy: d.policyName, policyId: d.policyId, action: d.action, fromZone: q.fromZone, toZone: q.toZone,
    application: d.application,
  };
}
