// A C enum of bpf/xdpfw.h by the names TypeScript gives its members
// (XDPFW_EVENT_SESSION_CREATE is 'session-create' under the prefix
// XDPFW_EVENT_), read from the BTF of the compiled object: C stays the one
// definition of the numbering.
import { btfEnum } from './native.js';

/** One C enum, by the names TypeScript knows; throws unless BTF has exactly them. */
export class EnumCodec<N extends string> {
  private readonly values = new Map<N, number>();
  private readonly names = new Map<number, N>();

  constructor(objectPath: string, cEnum: string, prefix: string, names: readonly N[]) {
    const members = btfEnum(objectPath, cEnum);
    const known = new Set<string>(names);
    const extra: string[] = [];
    for (const [cName, value] of Object.entries(members)) {
      if (!cName.startsWith(prefix)) throw new Error(`${cEnum}: ${cName} lacks the prefix ${prefix}`);
      const name = cName.slice(prefix.length).toLowerCase().replace(/_/g, '-');
      if (name === 'none') continue;
      if (!known.has(name)) { extra.push(cName); continue; }
      this.values.set(name as N, value);
      this.names.set(value, name as N);
    }
    const missing = names.filter((n) => !this.values.has(n));
    if (extra.length || missing.length) {
      throw new Error(`${objectPath}: enum ${cEnum} does not match the TypeScript names (unknown here: ${extra.join(', ') || '-'}; missing in C: ${missing.join(', ') || '-'})`);
    }
  }

  value(name: N): number {
    return this.values.get(name)!;
  }

  /** The name of `value`; throws for values TypeScript does not know (a corrupt or newer record). */
  name(value: number, field: string): N {
    const n = this.names.get(value);
    if (n === undefined) throw new Error(`event record: unknown ${field} ${value}`);
    return n;
  }
}
