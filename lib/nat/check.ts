import type { Statement } from '../config/ast.js';
import { ConfigError, Diagnostics } from '../config/errors.js';
import { activeChildren, child } from '../config/tree.js';
import { compileNat, type NatReferences } from './config.js';
import type { NatConfig } from './types.js';

/**
 * Validates the `security nat` of a normalised tree (groups applied, nothing pruned yet).
 * Its errors are the config's errors. Loading without unsupported statements leaves source,
 * destination and static NAT out, so their errors become warnings then (and they are left
 * out); proxy-arp and proxy-ndp are applied either way, so theirs stay errors. null when the
 * config has no (active) NAT.
 */
export function checkNat(
  tree: readonly Statement[],
  refs: Omit<NatReferences, 'routingInstances'>,
  ignoringUnsupported: boolean,
  d: Diagnostics,
): NatConfig | null {
  const nat = child(child(tree, 'security')?.children, 'nat');
  if (!nat) return null;
  // Every routing instance named in the config, also those xdpfw leaves to the kernel, and
  // Junos's name for the main table.
  const routingInstances = new Set(['default', ...activeChildren(child(tree, 'routing-instances')?.children).map((s) => s.words[0].text)]);
  const own = new Diagnostics();
  const config = compileNat(nat, { ...refs, routingInstances }, ignoringUnsupported ? own : d, d);
  if (!ignoringUnsupported || own.errors.length === 0) return config;
  for (const e of own.errors) d.warnings.push(new ConfigError(e.file, e.line, e.column, `${e.message} (security nat is not applied)`));
  return {
    ...config,
    source: { ...config.source, pools: [], ruleSets: [] },
    destination: { pools: [], ruleSets: [] },
    static: { ruleSets: [] },
  };
}
