// Renames the compiled tables from the configuration's interface names to the
// Linux interfaces they resolved to (lib/interfaces/resolve.ts): what the
// daemon attaches to, and what the filters and zones are looked up by.
import type { CompiledZones } from '../config/zones.js';
import type { FirewallConfig } from '../config/filters/model.js';
import type { InterfaceSettings } from '../config/types.js';
import type { Resolution, Trunk } from './resolve.js';
import type { Pos } from '../config/ast.js';

export interface OnBox extends CompiledZones {
  interfaceSettings: Map<string, InterfaceSettings>;
  firewall: FirewallConfig;
  trunks: Trunk[];
  interfacePositions: Map<string, Pos>;
}

export function applyResolution(
  r: Resolution, zones: CompiledZones, settings: ReadonlyMap<string, InterfaceSettings>, firewall: FirewallConfig,
): OnBox {
  const linux = (logical: string): string => r.linuxOf.get(logical) ?? logical;
  for (const z of zones.zones) z.interfaces = z.interfaces.map(linux);
  const zoneByInterface = new Map([...zones.zoneByInterface].map(([name, zone]) => [linux(name), zone]));
  const interfaces = [...zones.interfaces.map(linux), ...r.trunks.map((t) => t.device)];
  const interfaceSettings = new Map([...settings].map(([name, s]) => [linux(name), { ...s, name: linux(name) }]));
  const renamed: FirewallConfig = { ...firewall, interfaces: new Map([...firewall.interfaces].map(([name, a]) => [linux(name), a])) };
  return { zones: zones.zones, zoneByInterface, interfaces, interfaceSettings, firewall: renamed, trunks: r.trunks, interfacePositions: r.positions };
}
