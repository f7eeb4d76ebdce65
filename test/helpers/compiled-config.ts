import type { CompiledConfig } from '../../lib/config/types.js';
import type { ConfigError } from '../../lib/config/errors.js';

/**
 * A compiled config as comparable JSON: everything the dataplane and slow path are given,
 * without where it came from (file name, positions in the printed tree, warnings' positions).
 */
export function comparable(c: CompiledConfig): unknown {
  const { source: _source, tree: _tree, warnings: _warnings, interfacePositions: _positions, ...rest } = c;
  return JSON.parse(
    JSON.stringify(rest, (_k, v: unknown) => {
      if (v instanceof Map) return [...v.entries()];
      if (v instanceof Set) return [...v.values()].sort();
      if (typeof v === 'bigint') return v.toString();
      return v;
    }),
  );
}

/** Warning messages without their file:line:column, sorted. */
export function messages(errors: readonly ConfigError[]): string[] {
  return errors.map((e) => e.message).sort();
}
