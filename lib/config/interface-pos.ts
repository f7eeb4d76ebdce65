// Where a configuration names an interface: the position of the word in
// `security zones security-zone Z interfaces { <if>; }`, for errors about the
// interface itself (missing on this box, refusing XDP) that only the daemon
// can find.
import type { Pos } from './ast.js';
import { ConfigError } from './errors.js';
import { activeChildren, child, every } from './tree.js';
import type { CompiledConfig } from './types.js';

/** The statement that puts `name` in a zone; null if the config does not name it there. */
export function interfacePos(config: Pick<CompiledConfig, 'tree'> & Partial<Pick<CompiledConfig, 'interfacePositions'>>, name: string): Pos | null {
  const resolved = config.interfacePositions?.get(name);
  if (resolved) return resolved;
  const zones = child(child(config.tree, 'security')?.children, 'zones');
  for (const z of every(zones?.children, 'security-zone')) {
    if (z.inactive) continue;
    for (const i of activeChildren(child(z.children, 'interfaces')?.children)) {
      if (i.words[0]?.text === name) return i.words[0].pos;
    }
  }
  return null;
}

/** An error about interface `name`, at the statement naming it (at 1:1 of the file when none does). */
export function interfaceError(config: Pick<CompiledConfig, 'tree' | 'source'> & Partial<Pick<CompiledConfig, 'interfacePositions'>>, name: string, message: string): ConfigError {
  const pos = interfacePos(config, name);
  return pos ? ConfigError.at(pos, message) : new ConfigError(config.source, 1, 1, message);
}
