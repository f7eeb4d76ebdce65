import type { Statement, Word } from './ast.js';
import { describePos, type Diagnostics } from './errors.js';
import { ALL, ANY_SERVICE, EXCEPT, HOST_PROTOCOLS, SYSTEM_SERVICES, type HostMatch } from './host-inbound-services.js';
import { zoneScreen } from './screens.js';
import { activeChildren, child, every, valueOf } from './tree.js';
import type { ScreenProfile, Zone } from './types.js';
import { checkInterfaceName, checkName } from './values.js';
import { logicalInterfaceName, type TrunkUnits } from './interfaces.js';

export interface CompiledZones {
  zones: Zone[];
  zoneByInterface: Map<string, Zone>;
  interfaces: string[];
}

/** `security zones security-zone Z { interfaces { <if>; } host-inbound-traffic { ... } screen P; }`. */
export function compileZones(
  root: readonly Statement[], screens: ReadonlyMap<string, ScreenProfile>, d: Diagnostics, trunks: ReadonlyMap<string, TrunkUnits> = new Map(),
): CompiledZones {
  const out: CompiledZones = { zones: [], zoneByInterface: new Map(), interfaces: [] };
  const claimedAt = new Map<string, Word>();
  const zones = child(child(root, 'security')?.children, 'zones');
  const securityZones = every(zones?.children, 'security-zone');
  // `functional-zone management` (interfaces for managing the box) is a zone after the security zones.
  const management = child(child(zones?.children, 'functional-zone')?.children, 'management');
  const zoneStatements = management ? [...securityZones, management] : securityZones;
  zoneStatements.forEach((z, index) => {
    if (z.inactive) return;
    const name = z === management ? { ...z.words[0] } : z.words[1];
    if (z !== management) checkName(d, name, 'zone name');
    const clash = z === management && securityZones.find((s) => !s.inactive && s.words[1].text === name.text);
    if (clash) d.error(clash.words[1].pos, `zone name '${name.text}' is the functional zone's: rename the security zone`);
    const host = child(z.children, 'host-inbound-traffic');
    const screen = child(z.children, 'screen');
    const zone: Zone = {
      id: index + 1,
      name: name.text,
      interfaces: [],
      hostInbound: {
        services: hostInbound(child(host?.children, 'system-services'), SYSTEM_SERVICES, d),
        protocols: hostInbound(child(host?.children, 'protocols'), HOST_PROTOCOLS, d),
      },
      screen: screen ? zoneScreen(valueOf(screen), index + 1, screens, d) : null,
    };
    for (const i of activeChildren(child(z.children, 'interfaces')?.children)) {
      const ifname = i.words[0];
      if (!checkInterfaceName(d, ifname)) continue;
      const logical = logicalInterfaceName(ifname.text, trunks);
      const dot = logical.lastIndexOf('.');
      const base = dot > 0 ? logical.slice(0, dot) : '';
      if (trunks.has(logical)) {
        d.error(ifname.pos, `'${logical}' is a trunk (vlan-tagging): put its units ('${logical}.<unit>') in zones, not the trunk itself`);
        continue;
      }
      if (trunks.get(base)?.units.has(Number(logical.slice(dot + 1))) === false) {
        d.error(ifname.pos, `trunk '${base}' has no unit ${logical.slice(dot + 1)} with a 'vlan-id': define it under 'interfaces ${base}'`);
        continue;
      }
      const prev = claimedAt.get(logical);
      if (prev) {
        const owner = out.zoneByInterface.get(logical)?.name;
        d.error(ifname.pos, `interface '${ifname.text}' is already in zone '${owner}' (${describePos(prev.pos, ifname.pos)}); an interface belongs to one zone`);
        continue;
      }
      claimedAt.set(logical, ifname);
      zone.interfaces.push(logical);
      out.zoneByInterface.set(logical, withOwnHostInbound(zone, child(i.children, 'host-inbound-traffic'), d));
      out.interfaces.push(logical);
    }
    out.zones.push(zone);
  });
  return out;
}

/**
 * The zone as seen from one of its interfaces: the interface's own `system-services` and
 * `protocols`, where it has them, override the zone's (Junos: "interface configuration
 * overrides that of the zone"); everything else is the zone's. Packets are judged through
 * the zone of the interface that received them, so this is what they meet.
 */
function withOwnHostInbound(zone: Zone, own: Statement | undefined, d: Diagnostics): Zone {
  if (!own) return zone;
  const services = child(own.children, 'system-services');
  const protocols = child(own.children, 'protocols');
  return {
    ...zone,
    hostInbound: {
      services: services ? hostInbound(services, SYSTEM_SERVICES, d) : zone.hostInbound.services,
      protocols: protocols ? hostInbound(protocols, HOST_PROTOCOLS, d) : zone.hostInbound.protocols,
    },
  };
}

/** The admitted keywords: those listed, or with `all` every keyword but the `except` ones. */
function hostInbound(stmt: Statement | undefined, table: ReadonlyMap<string, readonly HostMatch[]>, d: Diagnostics): Set<string> {
  const entries = activeChildren(stmt?.children);
  const isAll = (kw: string): boolean => kw === ALL || kw === ANY_SERVICE;
  const all = entries.some((e) => isAll(e.words[0].text) && e.words.length === 1);
  const out = new Set<string>();
  const excluded = new Set<string>();
  for (const e of entries) {
    const kw = e.words[0].text;
    const except = e.words[1]?.text === EXCEPT;
    if (isAll(kw)) {
      if (except) d.error(e.pos, `'${kw} ${EXCEPT}' excludes everything; remove the statement instead`);
    } else if (except) {
      if (all) excluded.add(kw);
      else d.error(e.pos, `'${kw} ${EXCEPT}' only makes sense together with '${ALL}'`);
    } else {
      out.add(kw);
    }
  }
  if (all) for (const kw of table.keys()) if (!excluded.has(kw)) out.add(kw);
  return out;
}
