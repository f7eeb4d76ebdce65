import type { Statement } from './ast.js';
import { compileAddressBook } from './addressbook.js';
import { compileApplications } from './applications.js';
import { ConfigError, Diagnostics, sortErrors } from './errors.js';
import { compileFirewall } from './filters.js';
import { compileFlow } from './flow.js';
import { compileMetrics } from './metrics.js';
import { compileInterfaces } from './interfaces.js';
import { normalize } from './normalize.js';
import { parse } from './parser.js';
import { readConfigText } from './read-file.js';
import { compilePolicies } from './policies.js';
import { compileRoutingInstances } from './routing-instances.js';
import { SCHEMA } from './schema.js';
import { compileScreens } from './screens.js';
import { compilePassEthertypes } from './ethertypes.js';
import { compileSystem } from './system.js';
import type { CompiledConfig } from './types.js';
import { compileZones } from './zones.js';
import type { InterfaceMap } from '../interfaces/map-file.js';
import { readInterfaceMap } from '../interfaces/map-file.js';
import { applyResolution } from '../interfaces/apply.js';
import { resolveInterfaces } from '../interfaces/resolve.js';
import { kernelVlanDevices, type VlanDeviceLookup } from '../interfaces/vlan-devices.js';

/** Where the configuration's interfaces are on this box (lib/interfaces/). */
export interface CompileOptions {
  /** Junos interface names → Linux interfaces; without one, names are Linux names. */
  interfaceMap?: InterfaceMap | null;
  /** Finds a trunk unit's VLAN device (default: the kernel's, in this network namespace). */
  vlanDevice?: VlanDeviceLookup;
}

export type CompileResult = { ok: true; config: CompiledConfig } | { ok: false; errors: ConfigError[] };

/**
 * Parses and normalises text into the canonical tree (see normalize.ts). On syntax errors
 * only those are returned: the tree shape after them is guesswork.
 */
export function readConfigTree(text: string, file: string): { tree: Statement[]; errors: ConfigError[] } {
  const parsed = parse(text, file);
  if (parsed.errors.length) return { tree: [], errors: sortErrors(parsed.errors) };
  const norm = normalize(parsed.tree, SCHEMA);
  return { tree: norm.tree, errors: sortErrors(norm.errors) };
}

/** Compiles a parsed (or already normalised) tree; every error found is returned, in source order. */
export function compile(tree: readonly Statement[], source = '<input>', opts: CompileOptions = {}): CompileResult {
  const norm = normalize(tree, SCHEMA);
  const root = norm.tree;
  const d = new Diagnostics();
  const ifaces = compileInterfaces(root, d);
  const screens = compileScreens(root, d);
  const zones = compileZones(root, screens, d, ifaces.trunks);
  const book = compileAddressBook(root, d);
  const apps = compileApplications(root, d);
  const zoneNames = new Set(zones.zones.map((z) => z.name));
  const { policies, defaultPolicy } = compilePolicies(root, zoneNames, book, apps, d);
  const flow = compileFlow(root, d);
  const passEthertypes = compilePassEthertypes(root, d);
  const syslog = compileSystem(root, d);
  const metrics = compileMetrics(root, d);
  const routingInstances = compileRoutingInstances(root, d);
  const firewall = compileFirewall(root, zones.zoneByInterface, routingInstances, d);
  const resolution = resolveInterfaces(root, zones.interfaces, ifaces.trunks, opts.interfaceMap ?? null, opts.vlanDevice ?? kernelVlanDevices, d);
  const errors = [...norm.errors, ...d.errors];
  if (errors.length) return { ok: false, errors: sortErrors(errors) };
  const onBox = applyResolution(resolution, zones, ifaces.settings, firewall);
  return { ok: true, config: { source, ...onBox, policies, defaultPolicy, flow, passEthertypes, syslog, metrics, screens, routingInstances, tree: root } };
}

export function compileText(text: string, file: string, opts: CompileOptions = {}): CompileResult {
  const parsed = parse(text, file);
  if (parsed.errors.length) return { ok: false, errors: sortErrors(parsed.errors) };
  return compile(parsed.tree, file, opts);
}

/**
 * Reads, parses and compiles a file. Never throws, never blocks: an unreadable file, or
 * anything but a regular file (a FIFO, a device, a directory), is an error at 1:1.
 */
export function loadConfigFile(path: string, interfaceMapPath: string | null = null): CompileResult {
  let interfaceMap: InterfaceMap | null = null;
  if (interfaceMapPath !== null) {
    const read = readInterfaceMap(interfaceMapPath);
    if (read.errors.length) return { ok: false, errors: read.errors };
    interfaceMap = read.map;
  }
  let text: string;
  try {
    text = readConfigText(path);
  } catch (e) {
    return { ok: false, errors: [new ConfigError(path, 1, 1, `cannot read configuration: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  return compileText(text, path, { interfaceMap });
}
