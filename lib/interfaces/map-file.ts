// The interface map: which Linux interface a Junos interface name stands for
// on this box. It lives outside the configuration, so one Junos text serves
// an SRX and xdpfw alike. One mapping a line, `#` starts a comment:
//
//   ge-0/0/0        eth0         # the whole interface (its unit 0)
//   ge-0/0/1        ens1f0       # a trunk: each unit with vlan-id V gets a device ens1f0.V
//   ge-0/0/1.300    guests0      # one unit, its device named here
import { ConfigError } from '../config/errors.js';
import { readConfigText } from '../config/read-file.js';
import { isLinuxInterfaceName } from '../config/values.js';

export interface MapEntry {
  linux: string;
  line: number;
}

export interface InterfaceMap {
  /** The file the map came from (for messages). */
  source: string;
  /** Junos name (`ge-0/0/0` or `ge-0/0/0.100`) → Linux interface. */
  entries: Map<string, MapEntry>;
}

/** Junos names: an interface (`ge-0/0/0`, `ae0`, `reth1`, `irb`, `st0`, `lo0`, ...) with an optional unit. */
const JUNOS_OR_LINUX = /^[A-Za-z0-9_:/-]+(\.[0-9]{1,10})?$/;

export function parseInterfaceMap(text: string, source: string): { map: InterfaceMap; errors: ConfigError[] } {
  const entries = new Map<string, MapEntry>();
  const errors: ConfigError[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.indexOf('#');
    const body = hash >= 0 ? raw.slice(0, hash) : raw;
    const words = body.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) return;
    const column = body.indexOf(words[0]!) + 1;
    if (words.length !== 2) {
      errors.push(new ConfigError(source, line, column, `expected '<junos-interface> <linux-interface>', found ${words.length} word${words.length === 1 ? '' : 's'}`));
      return;
    }
    const [junos, linux] = words as [string, string];
    if (!JUNOS_OR_LINUX.test(junos) || junos.length > 63) {
      errors.push(new ConfigError(source, line, column, `'${junos}' is not an interface name (such as ge-0/0/0 or ge-0/0/0.100)`));
      return;
    }
    if (!isLinuxInterfaceName(linux)) {
      errors.push(new ConfigError(source, line, body.indexOf(linux, column - 1 + junos.length) + 1,
        `'${linux}' is not a Linux interface name (1-15 letters, digits, '-', '_' or '.')`));
      return;
    }
    const prev = entries.get(junos);
    if (prev) {
      errors.push(new ConfigError(source, line, column, `'${junos}' is mapped twice (first on line ${prev.line})`));
      return;
    }
    entries.set(junos, { linux, line });
  });
  return { map: { source, entries }, errors };
}

/** Reads and parses a map file; an unreadable file is an error at 1:1. */
export function readInterfaceMap(path: string): { map: InterfaceMap; errors: ConfigError[] } {
  let text: string;
  try {
    text = readConfigText(path);
  } catch (e) {
    return { map: { source: path, entries: new Map() }, errors: [new ConfigError(path, 1, 1, `cannot read interface map: ${e instanceof Error ? e.message : String(e)}`)] };
  }
  return parseInterfaceMap(text, path);
}
