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
export function compile(tree: readonly Statement[], source = '<input>'): CompileResult {
  const norm = normalize(tree, SCHEMA);
  const root = norm.tree;
  const d = new Diagnostics();
  const interfaceSettings = compileInterfaces(root, d);
  const screens = compileScreens(root, d);
  const zones = compileZones(root, screens, d);
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
  const errors = [...norm.errors, ...d.errors];
  if (errors.length) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, config: { source, ...zones, interfaceSettings, policies, defaultPolicy, flow, passEthertypes, syslog, metrics, screens, firewall, routingInstances, tree: root } };
}

export function compileText(text: string, file: string): CompileResult {
  const parsed = parse(text, file);
  if (parsed.errors.length) return { ok: false, errors: sortErrors(parsed.errors) };
  return compile(parsed.tree, file);
}

/**
 * Reads, parses and compiles a file. Never throws, never blocks: an unreadable file, or
 * anything but a regular file (a FIFO, a device, a directory), is an error at 1:1.
 */
export function loadConfigFile(path: string): CompileResult {
  let text: string;
  try {
    text = readConfigText(path);
  } catch (e) {
    return { ok: false, errors: [new ConfigError(path, 1, 1, `cannot read configuration: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  return compileText(text, path);
}
