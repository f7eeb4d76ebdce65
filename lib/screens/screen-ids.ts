// enum xdpfw_screen and the screen constants of bpf/xdpfw.h, read from the
// BTF of the compiled object: C is the one numbering.
import type { Ipv6ExtensionHeader } from '../config/screen-keywords.js';
import { btfEnum } from '../dataplane/native.js';
import { SCREEN_NAMES, type ScreenName } from '../events/screens.js';

/**
 * The screens of enum xdpfw_screen, as lib/events/screens.ts names them: the
 * enumerator without its prefix, lower case, '_' as '-' (XDPFW_SCREEN_LAND is 'land').
 */
export const SCREEN_KEYS: readonly ScreenName[] = SCREEN_NAMES;

export type ScreenKey = ScreenName;

export interface ScreenConstants {
  /** enum xdpfw_screen value by name. */
  ids: ReadonlyMap<ScreenKey, number>;
  /** Zone ids below this can carry a profile (XDPFW_MAX_ZONES). */
  maxZones: number;
  /** Per-zone stride of the xdpfw_screen_stats array (XDPFW_SCREEN_SLOTS). */
  slots: number;
  /** XDPFW_SCREEN_ALARM_WITHOUT_DROP, for struct xdpfw_screen_profile's flags. */
  alarmWithoutDrop: number;
  /** XDPFW_SCREEN_SYN_FLOOD_WHITE_LIST: the zone has syn-flood white-list entries in xdpfw_screen_allow. */
  synFloodWhiteList: number;
  /** XDPFW_SCREEN_UDP_FLOOD_WHITE_LIST: the zone has udp flood white-list entries in xdpfw_screen_allow. */
  udpFloodWhiteList: number;
  /** XDPFW_SCREEN_IPV6_OPTIONS: the profile names IPv6 option or header types. */
  ipv6Options: number;
  /** enum xdpfw_ipv6_ext bit of each header type `ipv6-extension-header` names. */
  ipv6Ext: ReadonlyMap<Ipv6ExtensionHeader, number>;
}

/** The enumerator of enum xdpfw_ipv6_ext for each configuration keyword. */
const IPV6_EXT_ENUM: Record<Ipv6ExtensionHeader, string> = {
  'hop-by-hop-header': 'XDPFW_IPV6_EXT_HOP_BY_HOP',
  'routing-header': 'XDPFW_IPV6_EXT_ROUTING',
  'fragment-header': 'XDPFW_IPV6_EXT_FRAGMENT',
  'destination-header': 'XDPFW_IPV6_EXT_DESTINATION',
  'AH-header': 'XDPFW_IPV6_EXT_AH',
  'ESP-header': 'XDPFW_IPV6_EXT_ESP',
  'no-next-header': 'XDPFW_IPV6_EXT_NO_NEXT',
  'mobility-header': 'XDPFW_IPV6_EXT_MOBILITY',
  'HIP-header': 'XDPFW_IPV6_EXT_HIP',
  'shim6-header': 'XDPFW_IPV6_EXT_SHIM6',
};

const cache = new Map<string, ScreenConstants>();

/** Throws unless the object's enum has exactly the screens of SCREEN_KEYS. */
export function screenConstants(objectPath: string): ScreenConstants {
  const cached = cache.get(objectPath);
  if (cached) return cached;
  const ids = new Map<ScreenKey, number>();
  const known = new Set<string>(SCREEN_KEYS);
  for (const [cName, value] of Object.entries(btfEnum(objectPath, 'xdpfw_screen'))) {
    const name = cName.replace(/^XDPFW_SCREEN_/, '').toLowerCase().replace(/_/g, '-');
    if (name === 'none') continue;
    if (!known.has(name)) throw new Error(`${objectPath}: ${cName} is not a screen lib/screens knows`);
    ids.set(name as ScreenKey, value);
  }
  const missing = SCREEN_KEYS.filter((k) => !ids.has(k));
  if (missing.length) throw new Error(`${objectPath}: enum xdpfw_screen lacks ${missing.join(', ')}`);
  const constants = btfEnum(objectPath, 'xdpfw_constants');
  const need = (rec: Record<string, number>, name: string): number => {
    const v = rec[name];
    if (v === undefined) throw new Error(`BPF object ${objectPath} lacks ${name}`);
    return v;
  };
  const ext = btfEnum(objectPath, 'xdpfw_ipv6_ext');
  const flags = btfEnum(objectPath, 'xdpfw_screen_flags');
  const c: ScreenConstants = {
    ids,
    maxZones: need(constants, 'XDPFW_MAX_ZONES'),
    slots: need(constants, 'XDPFW_SCREEN_SLOTS'),
    alarmWithoutDrop: need(flags, 'XDPFW_SCREEN_ALARM_WITHOUT_DROP'),
    synFloodWhiteList: need(flags, 'XDPFW_SCREEN_SYN_FLOOD_WHITE_LIST'),
    udpFloodWhiteList: need(flags, 'XDPFW_SCREEN_UDP_FLOOD_WHITE_LIST'),
    ipv6Options: need(flags, 'XDPFW_SCREEN_IPV6_OPTIONS'),
    ipv6Ext: new Map(Object.entries(IPV6_EXT_ENUM).map(([k, e]) => [k as Ipv6ExtensionHeader, need(ext, e)])),
  };
  cache.set(objectPath, c);
  return c;
}
