import type { Statement } from '../config/ast.js';
import { Diagnostics } from '../config/errors.js';
import { child } from '../config/tree.js';
import { compileHa } from './config.js';
import type { HaConfig } from './types.js';

/**
 * Validates the `high-availability` of a normalised tree; its errors are the config's.
 * null when the config has none (a single box) or it is wrong.
 */
export function checkHa(tree: readonly Statement[], d: Diagnostics, zoneInterfaces?: (written: string) => boolean): HaConfig | null {
  const ha = child(tree, 'high-availability');
  return ha ? compileHa(ha, d, zoneInterfaces) : null;
}

/** The pair of a running config (already validated when it was loaded). */
export function haOf(tree: readonly Statement[]): HaConfig | null {
  return checkHa(tree, new Diagnostics());
}
