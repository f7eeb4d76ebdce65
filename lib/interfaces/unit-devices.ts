// The devices of trunk units (bpf/vlan_units.h): a veth pair per unit that
// xdpfw creates and removes. The unit device is the kernel's view of the
// unit (its addresses, routes, neighbours; xdpfw_rx judges it like any
// interface); its internal peer runs xdpfw_vlan_tx, which tags what the unit
// sends and redirects it out of the trunk. Both carry an alias naming the
// state directory that made them, so a later run (or `xdpfw unload` after a
// crash) finds and removes exactly its own.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/** IFNAMSIZ - 1. */
const MAX_NAME = 15;

/** The unit device of VLAN `vlanId` on Linux interface `trunk`: `<trunk>.<vlan>`, the trunk's name shortened to fit. */
export function unitDeviceName(trunk: string, vlanId: number): string {
  const suffix = `.${vlanId}`;
  return `${trunk.slice(0, MAX_NAME - suffix.length)}${suffix}`;
}

/** The internal end of that unit: `xv<hash of the trunk>.<vlan>`, unique per trunk and VLAN. */
export function unitInternalName(trunk: string, vlanId: number): string {
  const hash = createHash('sha256').update(trunk).digest('hex').slice(0, 6);
  return `xv${hash}.${vlanId}`;
}

/** One unit's devices as a daemon wants them. */
export interface UnitDevice {
  trunk: string;
  vlanId: number;
  /** The unit device (the zone member). */
  device: string;
  /** Its veth peer, where xdpfw_vlan_tx runs. */
  internal: string;
  /** `address/length` of the unit's `family inet|inet6 address` statements. */
  addresses: string[];
}

interface IpLink {
  ifname: string;
  address?: string;
  ifalias?: string;
  mtu?: number;
  linkinfo?: { info_kind?: string };
  link?: string;
}

interface IpAddr {
  ifname: string;
  addr_info?: Array<{ local: string; prefixlen: number; scope?: string; family?: string }>;
}

function ip<T>(args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) || '[]') as T;
}

function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`${cmd} ${args.join(' ')}: ${stderr || (err as Error).message}`);
  }
}

/** The alias that marks a device as made by the daemon of `stateDir`. */
export function unitAlias(stateDir: string, what: 'unit' | 'internal', trunk: string, vlanId: number): string {
  return `xdpfw ${what} ${trunk} vlan ${vlanId} state ${stateDir}`;
}

function ours(link: IpLink | undefined, stateDir: string): boolean {
  return link?.linkinfo?.info_kind === 'veth' && (link.ifalias ?? '').startsWith('xdpfw ') && (link.ifalias ?? '').endsWith(` state ${stateDir}`);
}

function links(): Map<string, IpLink> {
  return new Map(ip<IpLink[]>(['-d', 'link', 'show']).map((l) => [l.ifname, l]));
}

/**
 * Makes every unit's veth pair exist, up, with the unit's addresses and the
 * trunk's MTU; a pair made earlier by the same state directory is kept as it
 * is (its links and sessions go on). A name taken by a device of anyone else
 * is an error: nothing of theirs is touched.
 */
export function ensureUnitDevices(units: readonly UnitDevice[], stateDir: string): void {
  const now = links();
  for (const u of units) {
    for (const name of [u.device, u.internal]) {
      const l = now.get(name);
      if (l && !ours(l, stateDir)) {
        throw new Error(`interface ${name} exists and is not a unit device of this xdpfw (state directory ${stateDir}): ` +
          `unit VLAN ${u.vlanId} of ${u.trunk} needs that name; rename or remove it, or map the unit to another name in the interface map`);
      }
    }
    const trunk = now.get(u.trunk);
    if (!trunk) throw new Error(`trunk ${u.trunk} of unit VLAN ${u.vlanId} does not exist`);
    if (!now.has(u.device) || !now.has(u.internal)) {
      // Half a pair (the other end deleted by hand) cannot be: deleting one end of a veth deletes both.
      run('ip', ['link', 'add', u.device, 'type', 'veth', 'peer', 'name', u.internal]);
      run('ip', ['link', 'set', 'dev', u.device, 'alias', unitAlias(stateDir, 'unit', u.trunk, u.vlanId)]);
      run('ip', ['link', 'set', 'dev', u.internal, 'alias', unitAlias(stateDir, 'internal', u.trunk, u.vlanId)]);
      // The unit's frames leave by XDP, byte for byte: nothing may be left to offloads.
      run('ethtool', ['-K', u.device, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      run('ethtool', ['-K', u.internal, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    }
    // The trunk's MAC, as an 802.1Q device has: a NIC passes frames for its own address only,
    // and neighbours keep theirs when a unit's device is made again.
    if (trunk.address && now.get(u.device)?.address !== trunk.address) run('ip', ['link', 'set', 'dev', u.device, 'address', trunk.address]);
    if (trunk.mtu !== undefined) {
      run('ip', ['link', 'set', 'dev', u.internal, 'mtu', String(trunk.mtu)]);
      run('ip', ['link', 'set', 'dev', u.device, 'mtu', String(trunk.mtu)]);
    }
    run('ip', ['link', 'set', 'dev', u.internal, 'up']);
    run('ip', ['link', 'set', 'dev', u.device, 'up']);
    syncAddresses(u);
  }
}

/** The unit device's global addresses become exactly the configured ones. */
function syncAddresses(u: UnitDevice): void {
  const have = new Set<string>();
  for (const a of ip<IpAddr[]>(['addr', 'show', 'dev', u.device]).flatMap((x) => x.addr_info ?? [])) {
    if (a.scope === 'link' || a.scope === 'host') continue;
    have.add(`${a.local}/${a.prefixlen}`);
  }
  const want = new Set(u.addresses.map(canonicalAddress));
  // Removed first: removing a subnet's primary address takes its secondaries with it.
  for (const a of have) if (!want.has(a)) run('ip', ['addr', 'del', a, 'dev', u.device]);
  for (const a of want) {
    if (!have.has(a)) run('ip', ['addr', 'add', a, 'dev', u.device, ...(isIP(a.split('/')[0]!) === 6 ? ['nodad'] : [])]);
  }
}

/** As `ip` prints it: IPv6 compressed, lower case. */
function canonicalAddress(a: string): string {
  const [addr, len] = a.split('/') as [string, string | undefined];
  const canon = isIP(addr) === 6 ? new URL(`http://[${addr}]/`).hostname.slice(1, -1) : addr;
  return `${canon}/${len ?? (isIP(addr) === 6 ? '128' : '32')}`;
}

/** Removes the unit devices this state directory made, except `keep` (unit device names); returns the removed ones. */
export function removeUnitDevices(stateDir: string, keep: ReadonlySet<string> = new Set()): string[] {
  const removed: string[] = [];
  let now: Map<string, IpLink>;
  try {
    now = links();
  } catch {
    return removed; // no `ip`: nothing of ours can exist
  }
  for (const l of now.values()) {
    if (!ours(l, stateDir) || !(l.ifalias ?? '').startsWith('xdpfw unit ') || keep.has(l.ifname)) continue;
    try {
      run('ip', ['link', 'del', 'dev', l.ifname]); // its peer goes with it
      removed.push(l.ifname);
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
