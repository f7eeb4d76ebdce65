import type { Statement } from '../config/ast.js';
import { ConfigError, Diagnostics } from '../config/errors.js';
import { activeChildren, child } from '../config/tree.js';
import { compileNat, type NatReferences } from './config.js';
import type { NatConfig } from './types.js';

/**
 * Validates the `security nat` of a normalised tree (groups applied, nothing pruned yet).
 * Its errors are the config's errors; loading without unsupported statements leaves NAT out,
 * so they become warnings then. null when the config has no (active) NAT.
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
  const config = compileNat(nat, { ...refs, routingInstances }, own);
  if (!ignoringUnsupported) {
    d.errors.push(...own.errors);
    return config;
  }
  for (const e of own.errors) d.warnings.push(new ConfigError(e.file, e.line, e.column, `${e.message} (security nat is not applied)`));
  return own.errors.length ? null : config;
}
