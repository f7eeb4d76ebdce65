// TypeScript's view of the flood meters' layouts in bpf/flood_meter.h, checked against the
// object's BTF by verifyFloodLayouts() (as lib/dataplane/layout.ts does for the rest).
import { arrayOf, SESSION_KEY, StructLayout } from '../dataplane/layout.js';
import { btfEnum } from '../dataplane/native.js';

/** enum xdpfw_flood_class, read from BTF. */
export interface FloodClasses { syn: number; newFlow: number; exception: number; count: number }

export function readFloodClasses(objectPath: string): FloodClasses {
  const e = btfEnum(objectPath, 'xdpfw_flood_class');
  const need = (name: string): number => {
    const v = e[name];
    if (v === undefined) throw new Error(`BPF object ${objectPath} lacks ${name}`);
    return v;
  };
  return { syn: need('XDPFW_FLOOD_SYN'), newFlow: need('XDPFW_FLOOD_NEW_FLOW'), exception: need('XDPFW_FLOOD_EXCEPTION'), count: need('XDPFW_FLOOD_CLASSES') };
}

/** XDPFW_FLOOD_CLASSES: the array sizes below; verifyFloodLayouts() checks it. */
export const FLOOD_CLASSES = 3;

export const FLOOD_SETTINGS = new StructLayout('xdpfw_flood_settings', [
  ['source_interval_ns', 'u64'], ['source_burst_ns', 'u64'],
  ['class_interval_ns', arrayOf('u64', FLOOD_CLASSES)], ['class_burst_ns', arrayOf('u64', FLOOD_CLASSES)],
  ['deny_ttl_ns', 'u64'], ['generation', 'u32'], ['pad', 'u32'],
] as const);

export const FLOOD_SOURCE_KEY = new StructLayout('xdpfw_flood_source_key', [['family', 'u32'], ['addr', arrayOf('u32', 2)]] as const);

export const DENY_KEY = new StructLayout('xdpfw_deny_key', [['flow', arrayOf(SESSION_KEY, 1)], ['ifindex', 'u32']] as const);

export const DENY_ENTRY = new StructLayout('xdpfw_deny_entry', [
  ['denied_ns', 'u64'], ['generation', 'u32'], ['policy_id', 'u32'], ['egress_ifindex', 'u32'],
  ['from_zone', 'u16'], ['to_zone', 'u16'], ['log', 'u8'], ['pad', arrayOf('u8', 7)],
] as const);

/** Throws with every difference between these layouts and the C structs. */
export function verifyFloodLayouts(objectPath: string): void {
  const problems = [FLOOD_SETTINGS, FLOOD_SOURCE_KEY, DENY_KEY, DENY_ENTRY].flatMap((l) => l.diff(objectPath));
  const classes = readFloodClasses(objectPath).count;
  if (classes !== FLOOD_CLASSES) problems.push(`XDPFW_FLOOD_CLASSES: ${classes} in C, ${FLOOD_CLASSES} here`);
  if (problems.length > 0) throw new Error(`layout mismatch between ${objectPath} and lib/flood/layout.ts:\n  ${problems.join('\n  ')}`);
}
