// The loaded XDP object and its maps: opening it against the pinned maps of
// a previous run, attaching through pinned bpf_links, and the typed map
// operations the slow path needs. Everything here survives a daemon restart
// through the pins; only unload() removes it.
import { KernelPath } from './kernel-path.js';
import { verifyFilterCodes } from '../filter/descriptor.js';
import { verifyTermConds } from '../filter/residual.js';
import { verifyRouteFlags } from '../slowpath/route-probe.js';
import { verifyRouteBatch } from '../slowpath/route-batch.js';
import { verifyRxMetaFlags } from '../slowpath/frame.js';
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bpfObjectPath } from '../util/paths.js';
import { type StatePaths, linkPinIfname, linkPinName } from '../daemon/state-paths.js';
import { persistentBpffs } from './bpffs.js';
import {
  COUNTER_VALUE, IFACE, META, POLICER, TCP_SETTINGS, type DataplaneConstants, readConstants, verifyLayouts,
} from './layout.js';
import {
  type BpfObject, attachXdp, btfEnum, closeFd, getPinned, ifNameToIndex, linkDetach, linkInfo, linkUpdate,
  mapDelete, mapLookup, mapUpdate, monotonicNs, numPossibleCpus, openObject, pinObject,
} from './native.js';

export type XdpMode = 'native' | 'generic';
export type XdpModeRequest = XdpMode | 'auto';

export interface AttachedInterface {
  name: string;
  ifindex: number;
  slot: number;
  zoneId: number;
  mode: XdpMode;
  /** true when an existing pinned link was taken over instead of attaching anew. */
  reused: boolean;
}

const MAPS = [
  'xdpfw_sessions', 'xdpfw_verdict_rows', 'xdpfw_ifaces', 'xdpfw_xsks', 'xdpfw_tx_ports', 'xdpfw_counters', 'xdpfw_meta', 'xdpfw_events',
  'xdpfw_screen_profiles', 'xdpfw_screen_stats', 'xdpfw_filter_counters', 'xdpfw_event_rates', 'xdpfw_event_suppressed',
  'xdpfw_fragments',
  'xdpfw_screen_allow',
  'xdpfw_proxy_pending',
  'xdpfw_tcp_settings',
  'xdpfw_pass_ethertypes',
  'xdpfw_tail_calls',
  'xdpfw_filter_programs',
  'xdpfw_vlan_units', 'xdpfw_vlan_egress',
  'xdpfw_policers', 'xdpfw_policer_drops',
  'xdpfw_flood_settings', 'xdpfw_deny_cache',
  'xdpfw_drop_watch', 'xdpfw_drop_budget', 'xdpfw_drops',
  'xdpfw_iface_generation',
  'xdpfw_route_lease', 'xdpfw_egress_ports',
  'xdpfw_neigh_proxies',
  'xdpfw_nat_sessions', 'xdpfw_nat_settings',
] as const;

/** The program in each slot of xdpfw_tail_calls, by its name in enum xdpfw_tail_call. */
const TAIL_CALLS: Record<string, string> = {
  XDPFW_TAIL_ICMP_ERROR: 'xdpfw_icmp_error',
  XDPFW_TAIL_SCREENS: 'xdpfw_screens',
  XDPFW_TAIL_SESSION: 'xdpfw_session',
};
type MapName = (typeof MAPS)[number];

const BPF_ANY = 0;

export class Dataplane {
  readonly objectPath = bpfObjectPath('xdpfw');
  readonly constants: DataplaneConstants;
  readonly cpus = numPossibleCpus();
  readonly progs: { rx: number; inject: number; injectNew: number; route: number; routeBatch: number };
  private readonly obj: BpfObject;
  private readonly fds: Record<MapName, number>;
  private readonly linkFds = new Map<string, number>();
  /** The slow path's way to the kernel on the attached interfaces (lib/dataplane/kernel-path.ts). */
  readonly kernelPath = new KernelPath();

  constructor(private readonly paths: StatePaths) {
    // Pins only on the host's bpffs: they, not this process, keep XDP attached.
    persistentBpffs();
    const createsPins = !existsSync(paths.pinDir);
    try {
      ({ constants: this.constants, obj: this.obj, fds: this.fds, progs: this.progs } = this.open());
    } catch (err) {
      // A load that fails leaves nothing behind it did not find (a previous daemon's pins stay).
      if (createsPins) rmSync(paths.pinDir, { recursive: true, force: true });
      throw err;
    }
  }

  private open(): Pick<Dataplane, 'constants' | 'progs'> & { obj: BpfObject; fds: Record<MapName, number> } {
    const paths = this.paths;
    verifyLayouts(this.objectPath);
    verifyFilterCodes(this.objectPath);
    verifyTermConds(this.objectPath);
    verifyRouteFlags(this.objectPath);
    verifyRouteBatch(this.objectPath);
    verifyRxMetaFlags(this.objectPath);
    const constants = readConstants(this.objectPath);
    this.refuseIncompatiblePins(constants.layoutVersion);
    mkdirSync(paths.mapPinDir, { recursive: true });
    mkdirSync(paths.linkPinDir, { recursive: true });
    // The devmap holds nothing a restart must keep (it is rebuilt from the
    // config), and libbpf 1.1 cannot reuse a pinned devmap: the kernel adds
    // BPF_F_RDONLY_PROG to its flags, which libbpf then sees as a mismatch.
    const obj = openObject(this.objectPath, { pinDir: paths.mapPinDir, unpinned: ['xdpfw_tx_ports'] });
    try {
      const fds = Object.fromEntries(MAPS.map((m) => [m, obj.mapFd(m)])) as Record<MapName, number>;
      const progs = {
        rx: obj.progFd('xdpfw_rx'),
        inject: obj.progFd('xdpfw_inject'),
        injectNew: obj.progFd('xdpfw_inject_new'),
        route: obj.progFd('xdpfw_route'),
        routeBatch: obj.progFd('xdpfw_route_batch'),
      };
      this.fillTailCalls(obj, fds.xdpfw_tail_calls);
      const meta = Buffer.alloc(META.size);
      meta.writeUInt32LE(constants.layoutVersion, META.offset.layout_version);
      mapUpdate(fds.xdpfw_meta, u32(0), meta, BPF_ANY);
      return { constants, obj, fds, progs };
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  /**
   * Puts this build's programs in the tail-call slots (the pinned map outlives a daemon, so a
   * restart overwrites what the previous build left); a slot of the enum without a program here
   * is an error, never left to drop packets silently.
   */
  private fillTailCalls(obj: BpfObject, tailCalls: number): void {
    const slots = btfEnum(this.objectPath, 'xdpfw_tail_call');
    for (const [name, slot] of Object.entries(slots)) {
      if (name.endsWith('__MAX')) continue;
      const prog = TAIL_CALLS[name];
      if (prog === undefined) throw new Error(`no program for tail-call slot ${name} of ${this.objectPath}`);
      mapUpdate(tailCalls, u32(slot), u32(obj.progFd(prog)), BPF_ANY);
    }
  }

  /** Pins written by a build with another layout are refused, never reused. */
  private refuseIncompatiblePins(layoutVersion: number): void {
    const metaPin = join(this.paths.mapPinDir, 'xdpfw_meta');
    if (!existsSync(metaPin)) return;
    const fd = getPinned(metaPin);
    try {
      const value = Buffer.alloc(META.size);
      if (!mapLookup(fd, u32(0), value)) return;
      const version = value.readUInt32LE(META.offset.layout_version);
      if (version !== 0 && version !== layoutVersion) {
        throw new Error(
          `pinned maps in ${this.paths.mapPinDir} have layout version ${version}, this build uses ` +
            `${layoutVersion}; run 'xdpfw unload' (this drops the existing sessions) and load again`,
        );
      }
    } finally {
      closeFd(fd);
    }
  }

  mapFd(name: MapName): number {
    return this.fds[name];
  }

  /** Any program of the object by its name (the tail-called stages included), for BPF_PROG_RUN. */
  programFd(name: string): number {
    return this.obj.progFd(name);
  }

  /**
   * Attaches xdpfw_rx to an interface through a pinned bpf_link. A link left
   * by a previous run on the same interface is taken over and switched to
   * this run's program atomically, so forwarding never stops.
   */
  attach(
    name: string, slot: number, zoneId: number, mode: XdpModeRequest, previousMode?: XdpMode,
    port: { flags?: number; redirect?: boolean } = {},
  ): AttachedInterface {
    const ifindex = ifNameToIndex(name);
    this.registerPort(ifindex, slot, zoneId, port.flags ?? 0, port.redirect ?? true);

    const pin = join(this.paths.linkPinDir, linkPinName(name));
    if (existsSync(pin)) {
      const fd = getPinned(pin);
      if (linkInfo(fd).ifindex === ifindex) {
        linkUpdate(fd, this.progs.rx);
        this.linkFds.set(name, fd);
        this.kernelPath.attach(ifindex);
        return { name, ifindex, slot, zoneId, mode: previousMode ?? 'native', reused: true };
      }
      // The interface was recreated since: that link is dead.
      closeFd(fd);
      unlinkSync(pin);
    }
    const link = attachXdp(this.progs.rx, ifindex, mode);
    try {
      pinObject(link.linkFd, pin);
    } catch (err) {
      closeFd(link.linkFd); // an unpinned link detaches when its last fd closes
      throw err;
    }
    this.linkFds.set(name, link.linkFd);
    this.kernelPath.attach(ifindex);
    return { name, ifindex, slot, zoneId, mode: link.mode, reused: false };
  }

  /** Detaches one interface and removes its pinned link. */
  detach(name: string): void {
    try {
      this.kernelPath.detach(ifNameToIndex(name));
    } catch { /* the interface is gone, and its attachment with it */ }
    const fd = this.linkFds.get(name);
    if (fd !== undefined) closeFd(fd);
    this.linkFds.delete(name);
    const pin = join(this.paths.linkPinDir, linkPinName(name));
    if (existsSync(pin)) detachPinnedLink(pin);
  }

  /** Detaches pinned links of interfaces that are no longer configured. */
  detachOthers(keep: ReadonlySet<string>): string[] {
    const gone: string[] = [];
    for (const pin of readdirSync(this.paths.linkPinDir)) {
      const name = linkPinIfname(pin);
      if (keep.has(name)) continue;
      detachPinnedLink(join(this.paths.linkPinDir, pin));
      gone.push(name);
    }
    return gone;
  }

  /** Makes an interface one of the firewall's: its slot and zone for xdpfw_rx, and a redirect target. */
  /** redirect false: never a redirect target (a device without ndo_xdp_xmit; the kernel sends its packets). */
  registerPort(ifindex: number, slot: number, zoneId: number, flags = 0, redirect = true): void {
    this.setInterfaceZone(ifindex, slot, zoneId, flags);
    if (redirect) mapUpdate(this.fds.xdpfw_tx_ports, u32(ifindex), u32(ifindex), BPF_ANY);
    else mapDelete(this.fds.xdpfw_tx_ports, u32(ifindex));
  }

  /** flags: enum xdpfw_iface_flags (a trunk: lib/dataplane/vlan-units.ts). */
  setInterfaceZone(ifindex: number, slot: number, zoneId: number, flags = 0): void {
    const iface = Buffer.alloc(IFACE.size);
    iface.writeUInt32LE(slot, IFACE.offset.slot);
    iface.writeUInt16LE(zoneId, IFACE.offset.zone_id);
    iface.writeUInt16LE(flags, IFACE.offset.flags);
    mapUpdate(this.fds.xdpfw_ifaces, u32(ifindex), iface, BPF_ANY);
    this.ifacesChanged();
  }

  /** Every CPU's copy of an xdpfw_ifaces entry (bpf/iface_cache.h) is taken again: a new generation. */
  private ifacesChanged(): void {
    const gen = Buffer.alloc(8);
    gen.writeBigUInt64LE(monotonicNs());
    mapUpdate(this.fds.xdpfw_iface_generation, u32(0), gen, BPF_ANY);
  }

  /** An interface's entry as the running programs see it (null: none), to put back with restoreInterfaceEntry. */
  interfaceEntry(ifindex: number): Buffer | null {
    const value = Buffer.alloc(IFACE.size);
    return mapLookup(this.fds.xdpfw_ifaces, u32(ifindex), value) ? value : null;
  }

  restoreInterfaceEntry(ifindex: number, entry: Buffer | null): void {
    if (entry) mapUpdate(this.fds.xdpfw_ifaces, u32(ifindex), entry, BPF_ANY);
    else mapDelete(this.fds.xdpfw_ifaces, u32(ifindex));
    this.ifacesChanged();
  }

  forgetInterface(ifindex: number): void {
    mapDelete(this.fds.xdpfw_ifaces, u32(ifindex));
    this.ifacesChanged();
    mapDelete(this.fds.xdpfw_tx_ports, u32(ifindex));
  }

  registerSocket(slot: number, queue: number, xskFd: number): void {
    mapUpdate(this.fds.xdpfw_xsks, u32(slot * this.constants.maxQueues + queue), u32(xskFd), BPF_ANY);
  }

  unregisterSocket(slot: number, queue: number): void {
    mapDelete(this.fds.xdpfw_xsks, u32(slot * this.constants.maxQueues + queue));
  }

  /** Sum of the per-CPU counters, by counter name. */
  readCounters(): Map<string, { packets: bigint; bytes: bigint }> {
    const stride = COUNTER_VALUE.size; // already a multiple of 8
    const value = Buffer.alloc(stride * this.cpus);
    const out = new Map<string, { packets: bigint; bytes: bigint }>();
    for (const [name, index] of this.constants.counters) {
      let packets = 0n;
      let bytes = 0n;
      if (mapLookup(this.fds.xdpfw_counters, u32(index), value)) {
        for (let cpu = 0; cpu < this.cpus; cpu++) {
          packets += value.readBigUInt64LE(cpu * stride + COUNTER_VALUE.offset.packets);
          bytes += value.readBigUInt64LE(cpu * stride + COUNTER_VALUE.offset.bytes);
        }
      }
      out.set(name, { packets, bytes });
    }
    return out;
  }

  /** XDP's totals of the filters' `count` counters at these indexes, summed over CPUs. */
  readFilterCounters(indexes: Iterable<number>): Map<number, { packets: number; bytes: number }> {
    return this.sumPerCpu(this.fds.xdpfw_filter_counters, indexes);
  }

  /** Per-CPU counter values (struct xdpfw_counter_value) at these indexes of an array map, summed. */
  private sumPerCpu(fd: number, indexes: Iterable<number>): Map<number, { packets: number; bytes: number }> {
    const stride = COUNTER_VALUE.size;
    const value = Buffer.alloc(stride * this.cpus);
    const out = new Map<number, { packets: number; bytes: number }>();
    for (const index of indexes) {
      let packets = 0;
      let bytes = 0;
      if (mapLookup(fd, u32(index), value)) {
        for (let cpu = 0; cpu < this.cpus; cpu++) {
          packets += Number(value.readBigUInt64LE(cpu * stride + COUNTER_VALUE.offset.packets));
          bytes += Number(value.readBigUInt64LE(cpu * stride + COUNTER_VALUE.offset.bytes));
        }
      }
      out.set(index, { packets, bytes });
    }
    return out;
  }

  /** Zeroes the filters' `count` counters at these indexes (a reload numbers them anew). */
  resetFilterCounters(indexes: Iterable<number>): void {
    const zero = Buffer.alloc(COUNTER_VALUE.size * this.cpus);
    for (const index of indexes) mapUpdate(this.fds.xdpfw_filter_counters, u32(index), zero, BPF_ANY);
  }

  /**
   * The filter terms' policer buckets (struct xdpfw_policer), full, at their indexes; their drop
   * counters zeroed (the caller folded them). A slot no term uses is left unconfigured: a packet
   * that still names it exceeds.
   */
  writePolicers(buckets: ReadonlyArray<{ index: number; bandwidthLimit: number; burstSizeLimit: number }>, previous: Iterable<number> = []): void {
    const zero = Buffer.alloc(POLICER.size);
    for (const index of previous) mapUpdate(this.fds.xdpfw_policers, u32(index), zero, BPF_ANY);
    for (const b of buckets) {
      const v = Buffer.alloc(POLICER.size);
      const rate = BigInt(Math.floor(b.bandwidthLimit / 8));
      const burst = BigInt(b.burstSizeLimit);
      v.writeBigUInt64LE(rate, POLICER.offset.rate);
      v.writeBigUInt64LE(burst, POLICER.offset.burst);
      v.writeBigUInt64LE((burst * 1_000_000_000n) / rate, POLICER.offset.fill_ns);
      v.writeBigUInt64LE(burst, POLICER.offset.tokens);
      mapUpdate(this.fds.xdpfw_policers, u32(b.index), v, BPF_ANY);
    }
    const counts = Buffer.alloc(COUNTER_VALUE.size * this.cpus);
    for (const index of [...previous, ...buckets.map((b) => b.index)]) mapUpdate(this.fds.xdpfw_policer_drops, u32(index), counts, BPF_ANY);
  }

  /** What each bucket discarded in XDP, summed over CPUs. */
  readPolicerDrops(indexes: Iterable<number>): Map<number, { packets: number; bytes: number }> {
    return this.sumPerCpu(this.fds.xdpfw_policer_drops, indexes);
  }

  /** `security flow tcp-session` as XDP applies it to every later packet. */
  setTcpSettings(tcp: { noSynCheck: boolean; noSequenceCheck: boolean }): void {
    const v = Buffer.alloc(TCP_SETTINGS.size);
    const c = this.constants.tcp;
    v.writeUInt32LE((tcp.noSynCheck ? c.noSynCheck : 0) | (tcp.noSequenceCheck ? c.noSequenceCheck : 0), TCP_SETTINGS.offset.flags);
    mapUpdate(this.fds.xdpfw_tcp_settings, u32(0), v, BPF_ANY);
  }

  /** Writes a residual filter program into its slot (lib/filter/programs.ts). */
  writeFilterProgram(index: number, program: Buffer): void {
    mapUpdate(this.fds.xdpfw_filter_programs, u32(index), program, BPF_ANY);
  }

  /** Releases this process's handles; pins (links, maps) stay for the next run. */
  close(): void {
    for (const fd of this.linkFds.values()) closeFd(fd);
    this.linkFds.clear();
    this.kernelPath.close();
    this.obj.close();
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function detachPinnedLink(pin: string): void {
  try {
    const fd = getPinned(pin);
    try {
      linkDetach(fd);
    } catch {
      // Already detached (its interface is gone): removing the pin is enough.
    } finally {
      closeFd(fd);
    }
  } finally {
    unlinkSync(pin);
  }
}

/**
 * Removes everything a daemon pinned for this state directory: detaches its
 * XDP links and drops its maps (and with them every session). Works whether
 * or not a daemon is still running.
 */
export function purgePins(paths: StatePaths): { links: string[] } {
  const links: string[] = [];
  if (existsSync(paths.linkPinDir)) {
    for (const pin of readdirSync(paths.linkPinDir)) {
      detachPinnedLink(join(paths.linkPinDir, pin));
      links.push(linkPinIfname(pin));
    }
  }
  rmSync(paths.pinDir, { recursive: true, force: true });
  return { links };
}
