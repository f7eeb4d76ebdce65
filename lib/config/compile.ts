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
import { expandGroups } from './groups.js';
import { pruneUnsupported } from './unsupported-report.js';
import { compilePolicies } from './policies.js';
import { compileRoutingInstances } from './routing-instances.js';
import { SCHEMA } from './schema.js';
import { compileScreens } from './screens.js';
import { compilePassEthertypes } from './ethertypes.js';
import { compileSystem } from './system.js';
import type { CompiledConfig, Policy } from './types.js';
import { compileZones } from './zones.js';
import { compileNameServers, DnsNames, type DnsAnswers } from './dns-names.js';
import type { InterfaceMap } from '../interfaces/map-file.js';
import { readInterfaceMap } from '../interfaces/map-file.js';
import { applyResolution } from '../interfaces/apply.js';
import { logicalInterfaceName } from './interfaces.js';
import { checkNat } from '../nat/check.js';
import { neighborProxies as checkNeighborProxies } from '../nat/proxy-targets.js';
import type { NatConfig } from '../nat/types.js';
import { checkHa } from '../ha/check.js';
import type { HaConfig } from '../ha/types.js';
import { resolveInterfaces } from '../interfaces/resolve.js';

/**
 * How Junos statements that xdpfw does not implement and cluster node groups are taken, and
 * where the configuration's interfaces are on this box (lib/interfaces/).
 */
export interface CompileOptions {
  /**
   * Load without the unsupported statements that change what passes or how it is rewritten
   * (NAT, IPsec, UTM, ...): they become warnings instead of refusing the config.
   */
  ignoreUnsupported?: boolean;
  /** The chassis cluster node whose `${node}` group applies (default node0). */
  node?: string;
  /** Junos interface names → Linux interfaces; without one, names are Linux names. */
  interfaceMap?: InterfaceMap | null;
  /**
   * Every zone member must be a Linux interface of this box (true: what runs, and `check`
   * given an interface map); false checks the language alone and only warns of names that do
   * not resolve here.
   */
  requireInterfaces?: boolean;
  /** The daemon's answers for dns-name addresses; without them every name matches nothing yet. */
  dnsAnswers?: DnsAnswers;
}

export const DEFAULT_NODE = 'node0';

/**
 * Warnings are what the config has that xdpfw does not apply (`<path> not supported`, ...).
 * `nat`: the config's `security nat`, validated (null: it has none); of it, only proxy-arp and
 * proxy-ndp are applied yet (`neighborProxies`).
 */
export type CompileResult =
  | { ok: true; config: CompiledConfig; warnings: ConfigError[]; nat?: NatConfig | null; ha?: HaConfig | null }
  | { ok: false; errors: ConfigError[]; warnings: ConfigError[] };

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
export function compile(tree: readonly Statement[], source = '<input>', options: CompileOptions = {}): CompileResult {
  const norm = normalize(tree, SCHEMA);
  const d = new Diagnostics();
  const expanded = expandGroups(norm.tree, SCHEMA, options.node ?? DEFAULT_NODE, d);
  const pruned = pruneUnsupported(expanded, SCHEMA);
  for (const u of pruned.found) {
    if (u.how === 'refused' && !options.ignoreUnsupported) {
      d.error(u.pos, `${u.path} not supported; it changes what passes or how: remove it, or load without it (--ignore-unsupported)`);
    } else {
      d.warn(u.pos, `${u.path} not supported`);
    }
  }
  const root = pruned.tree;
  const ifaces = compileInterfaces(root, d);
  const screens = compileScreens(root, d);
  const zones = compileZones(root, screens, d, ifaces.trunks);
  const zoneNames = new Set(zones.zones.map((z) => z.name));
  const dns = new DnsNames(options.dnsAnswers ?? new Map());
  const books = compileAddressBook(root, zoneNames, d, dns);
  const apps = compileApplications(root, d);
  const { policies, defaultPolicy } = compilePolicies(root, zoneNames, books, apps, d, dns);
  const nameServers = compileNameServers(root, d);
  const flow = compileFlow(root, d);
  const passEthertypes = compilePassEthertypes(root, d);
  const syslog = compileSystem(root, d);
  const metrics = compileMetrics(root, d);
  const routingInstances = compileRoutingInstances(root, d);
  const firewall = compileFirewall(root, zones.zoneByInterface, routingInstances, d);
  const natWarningsBefore = d.warnings.length;
  const nat = checkNat(expanded, { zones: zoneNames, books, apps }, options.ignoreUnsupported ?? false, d);
  // Left out for its errors (--ignore-unsupported): the running tree has no source NAT either.
  const natLeftOut = d.warnings.slice(natWarningsBefore).some((w) => w.message.endsWith(NAT_NOT_APPLIED));
  const ha = checkHa(root, d, (written) => zones.zoneByInterface.has(logicalInterfaceName(written, ifaces.trunks)));
  const resolution = resolveInterfaces(root, zones.interfaces, ifaces.trunks, options.interfaceMap ?? null, d, options.requireInterfaces ?? true);
  const members = new Set(zones.interfaces);
  const deviceOf = (written: string): string | undefined => {
    const logical = logicalInterfaceName(written, ifaces.trunks);
    return members.has(logical) ? resolution.linuxOf.get(logical) ?? logical : undefined;
  };
  const neighborProxies = checkNeighborProxies(nat, deviceOf, d);
  const errors = [...norm.errors, ...d.errors];
  const warnings = sortErrors(d.warnings);
  if (errors.length) return { ok: false, errors: sortErrors(errors), warnings };
  const onBox = applyResolution(resolution, zones, ifaces.settings, firewall);
  const config: CompiledConfig = {
    source, ...onBox, policies, defaultPolicy, dnsNames: dns.names, nameServers, flow, passEthertypes, neighborProxies, nat: appliedNat(nat), syslog, metrics, screens, routingInstances,
    tree: natLeftOut ? withoutSourceNat(root) : root, warnings: warnings.map((w) => w.toString()),
  };
  return { ok: true, config, warnings, nat, ha };
}

/**
 * The policies of a running config with other DNS answers: the same tree, so the same ids,
 * names and errors (none). null if it no longer compiles (it should not happen: the caller
 * keeps the policies it has).
 */
export function recompilePolicies(config: CompiledConfig, answers: DnsAnswers): Policy[] | null {
  const d = new Diagnostics();
  const zoneNames = new Set(config.zones.map((z) => z.name));
  const dns = new DnsNames(answers);
  const books = compileAddressBook(config.tree, zoneNames, d, dns);
  const apps = compileApplications(config.tree, d);
  const { policies } = compilePolicies(config.tree, zoneNames, books, apps, d, dns);
  return d.errors.length ? null : policies;
}

export function compileText(text: string, file: string, options: CompileOptions = {}): CompileResult {
  const parsed = parse(text, file);
  if (parsed.errors.length) return { ok: false, errors: sortErrors(parsed.errors), warnings: [] };
  return compile(parsed.tree, file, options);
}

/**
 * Reads, parses and compiles a file. Never throws, never blocks: an unreadable file, or
 * anything but a regular file (a FIFO, a device, a directory), is an error at 1:1; errors
 * of the interface map file at their own file:line:column.
 */
export function loadConfigFile(path: string, options: CompileOptions = {}, interfaceMapPath: string | null = null): CompileResult {
  let interfaceMap: InterfaceMap | null = null;
  if (interfaceMapPath !== null) {
    const read = readInterfaceMap(interfaceMapPath);
    if (read.errors.length) return { ok: false, errors: read.errors, warnings: [] };
    interfaceMap = read.map;
  }
  let text: string;
  try {
    text = readConfigText(path);
  } catch (e) {
    return { ok: false, errors: [new ConfigError(path, 1, 1, `cannot read configuration: ${e instanceof Error ? e.message : String(e)}`)], warnings: [] };
  }
  return compileText(text, path, { ...options, interfaceMap });
}

/** What the dataplane applies of `security nat` (source NAT; destination and static are refused or left out); null: nothing. */
function appliedNat(nat: NatConfig | null): NatConfig | null {
  if (!nat || (nat.source.pools.length === 0 && nat.source.ruleSets.length === 0)) return null;
  return { ...nat, destination: { pools: [], ruleSets: [] }, static: { ruleSets: [] } };
}

const NAT_NOT_APPLIED = '(security nat is not applied)';

/** The tree without `security nat source` (the rest of `security nat` as it is). */
function withoutSourceNat(tree: Statement[]): Statement[] {
  const strip = (list: Statement[], path: readonly string[]): Statement[] =>
    list.flatMap((st) => {
      if (st.words[0]?.text !== path[0]) return [st];
      if (path.length === 1) return [];
      return [{ ...st, children: st.children ? strip(st.children, path.slice(1)) : st.children }];
    });
  return strip(tree, ['security', 'nat', 'source']);
}
