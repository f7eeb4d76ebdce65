// Typed access to the native addon (build/Release/xdpfw_native.node).
//
// The addon is loaded lazily on first use, so modules that merely import
// these types (or pure-TypeScript unit tests) work without a native build.
// Every function is synchronous and throws NativeError (errno + code) on
// failure.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Error thrown by every native call: message "op: strerror(errno) (detail)". */
export class NativeError extends Error {
  /** errno value, e.g. 2 */
  readonly errno: number;
  /** symbolic errno, e.g. 'ENOENT' ('ENOTSUPP' for the kernel-internal 524) */
  readonly code: string;
  /** libbpf / verifier output, when the failure came with one (openObject) */
  declare log?: string;

  constructor(message: string, errno: number, code: string) {
    super(message);
    this.name = 'NativeError';
    this.errno = errno;
    this.code = code;
  }
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof NativeError;
}

// ---------------------------------------------------------------- BPF objects

export interface MapDescriptor {
  name: string;
  fd: number;
  /** enum bpf_map_type */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export interface ProgramDescriptor {
  /** C function name */
  name: string;
  fd: number;
  /** ELF section, e.g. 'xdp' */
  section: string;
}

export interface OpenObjectOptions {
  /**
   * bpffs directory for map pins: every non-internal map is pinned at
   * pinDir/NAME, reusing a compatible map already pinned there. Created if
   * missing.
   */
  pinDir?: string;
  /** maps left out of pinning: fresh in every run (e.g. state derived from config) */
  unpinned?: string[];
  /** max_entries to use instead of the object's, by map name (a scratch instance's small maps) */
  maxEntries?: Record<string, number>;
}

/**
 * A loaded BPF object. Its map and program fds are owned by it: they are
 * closed by close() - or when the object is garbage collected, so keep it
 * referenced while its fds are in use.
 */
export interface BpfObject {
  maps(): MapDescriptor[];
  programs(): ProgramDescriptor[];
  /** throws ENOENT if there is no such map */
  mapFd(name: string): number;
  /** throws ENOENT if there is no such program (name = C function name) */
  progFd(name: string): number;
  /** idempotent */
  close(): void;
}

// ---------------------------------------------------------------------- links

export type XdpMode = 'native' | 'generic';
export type XdpAttachMode = XdpMode | 'auto';

export interface XdpAttachment {
  linkFd: number;
  /** the mode that took effect ('auto' tries native first) */
  mode: XdpMode;
}

export interface LinkInfo {
  id: number;
  progId: number;
  /** attached interface for XDP links, 0 for other link types */
  ifindex: number;
  /** enum bpf_link_type (BPF_LINK_TYPE_XDP = 6) */
  type: number;
}

export interface ProgInfo {
  id: number;
  /** kernel name, truncated to 15 characters */
  name: string;
  /** 16 hex digits: hash of the instructions */
  tag: string;
}

export interface MapInfo {
  id: number;
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

// ----------------------------------------------------------------------- maps

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

export interface MapDump {
  /** count * keySize bytes */
  keys: Buffer;
  /** count * valueSize bytes */
  values: Buffer;
  count: number;
}

// ------------------------------------------------------------------- prog run

export interface ProgTestRunOptions {
  /** packet (at least 14 bytes); used in place, may be a view into an Xsk UMEM */
  data: Uint8Array;
  /** the packet is data[offset, offset + length) (defaults: 0, the rest): a UMEM frame without a view per call */
  offset?: number;
  length?: number;
  /** ingress interface (in the caller's network namespace); sets ctx ingress_ifindex */
  ifindex?: number;
  /** rx_queue_index in the context (requires ifindex) */
  rxQueue?: number;
  /** BPF_F_TEST_XDP_LIVE_FRAMES: act on the verdict (TX/PASS/REDIRECT); no dataOut */
  live?: boolean;
  /** run count (live: number of frames injected) */
  repeat?: number;
  /** live mode only: frames per batch (kernel default 64, max 256) */
  batchSize?: number;
  /** output buffer size (default max(4096, data.length + 256)) */
  dataOutSize?: number;
  /** plain mode: write the output packet here (dataOut is then null, dataOutLength its size) */
  into?: Uint8Array;
}

export interface ProgTestRunResult {
  /** XDP verdict (XDP_ABORTED=0, DROP=1, PASS=2, TX=3, REDIRECT=4) */
  retval: number;
  /** average run time in ns */
  duration: number;
  /** the packet after the program ran; null in live mode and with `into` */
  dataOut: Buffer | null;
  /** with `into`: bytes of output written there */
  dataOutLength?: number;
}

// ----------------------------------------------------------------------- AF_XDP

export type XskMode = 'copy' | 'zerocopy';

export interface XskOptions {
  ifindex: number;
  /** must name the interface `ifindex` refers to */
  ifname: string;
  queue: number;
  /** UMEM frames, even; half RX, half TX (default 4096) */
  frameCount?: number;
  /** power of two in [2048, page size] (default 2048) */
  frameSize?: number;
  /** default 'auto': zerocopy if the driver supports it, else copy */
  mode?: XskMode | 'auto';
  /**
   * default true: bind with XDP_USE_SG, so packets larger than a frame are
   * received (assembled, see rx()) and sent in several frames
   */
  multiBuffer?: boolean;
  /**
   * default 0: bytes the XDP program puts in front of every packet it sends up (its metadata,
   * with bpf_xdp_adjust_head); rx() returns each packet after them, so they sit right in front
   * of the address it gives
   */
  rxPrefix?: number;
}

export interface XskStats {
  rxDropped: number;
  rxInvalidDescs: number;
  txInvalidDescs: number;
  rxRingFull: number;
  fillRingEmptyDescs: number;
  txRingEmptyDescs: number;
  /** multi-buffer packets larger than maxPacket, dropped by rx() */
  rxTooBig: number;
}

/** Called when the socket is readable; `err` is set (once, polling stopped) on socket errors. */
export type XskPollCallback = (err?: NativeError) => void;

export interface XskInstance {
  /** socket fd: insert it into the XSKMAP at index `queue` */
  readonly fd: number;
  /** the whole UMEM (detached by close()) */
  readonly umem: ArrayBuffer;
  readonly mode: XskMode;
  readonly frameSize: number;
  /** bound with XDP_USE_SG: packets larger than a frame pass */
  readonly multiBuffer: boolean;
  /** the largest packet rx() returns and tx() takes */
  readonly maxPacket: number;
  /**
   * Receive up to descs.length / 2 packets as [umemOffset, length] pairs.
   * The frames returned stay valid (untouched by the kernel) until the next
   * rx() call, which first gives them back to the fill ring. A multi-buffer
   * packet is returned contiguous, copied past the UMEM's frames (still in
   * `umem`), with the XDP metadata in front of it as for any other.
   */
  rx(descs: Uint32Array): number;
  /**
   * Queue `count` packets stored back to back in `frames` (sizes in
   * `lengths`). Returns how many were queued: fewer when the TX frame pool
   * or ring is full (retry the rest later).
   */
  tx(frames: Uint8Array, lengths: Uint32Array, count: number): number;
  /** Reclaim frames the kernel has finished sending; returns how many. */
  completeTx(): number;
  stats(): XskStats;
  /** Start watching for received packets; the callback should drain with rx() until 0. */
  poll(callback: XskPollCallback): void;
  stopPoll(): void;
  /** idempotent; stops polling and frees the socket and UMEM */
  close(): void;
}

// ------------------------------------------------------------------ ring buffer

/** A batch of ring buffer records (copies); `err` set once if polling failed (then stopped). */
export type RingBufferCallback = (records: Buffer[], err?: NativeError) => void;

export interface RingBufferInstance {
  /** Synchronously drain all pending records (they bypass the callback). */
  consume(): Buffer[];
  /** idempotent; stops polling (and releases the event loop) */
  close(): void;
}

// ------------------------------------------------------------------------ BTF

export interface BtfMember {
  /** '' for anonymous members */
  name: string;
  /** byte offset (floor of bitOffset / 8) */
  offset: number;
  /** byte size of the member's type (arrays: whole array) */
  size: number;
  bitfield: boolean;
  bitOffset: number;
  /** bit width for bitfields, 0 otherwise */
  bitSize: number;
}

export interface BtfStruct {
  size: number;
  members: BtfMember[];
}

// --------------------------------------------------------------- raw addon

interface NativeAddon {
  setErrorClass(ctor: new (message: string, errno: number, code: string) => Error): void;
  openObject(path: string, opts: OpenObjectOptions): BpfObject;
  attachXdp(progFd: number, ifindex: number, mode: XdpAttachMode): XdpAttachment;
  linkUpdate(linkFd: number, progFd: number): void;
  linkInfo(fd: number): LinkInfo;
  linkDetach(fd: number): void;
  attachTcxEgress(progFd: number, ifindex: number): number;
  packetSocket(mark: number): number;
  packetSend(fd: number, ifindex: number, data: Uint8Array, offset: number, length: number): number;
  pinObject(fd: number, path: string): void;
  getPinned(path: string): number;
  closeFd(fd: number): void;
  progInfo(fd: number): ProgInfo;
  mapInfo(fd: number): MapInfo;
  mapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean;
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): void;
  mapDelete(fd: number, key: Uint8Array): boolean;
  mapDump(fd: number, keySize: number, valueSize: number): MapDump;
  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: number): number;
  mapDeleteBatch(fd: number, keys: Uint8Array, count: number): number;
  numPossibleCpus(): number;
  progTestRun(progFd: number, opts: ProgTestRunOptions): ProgTestRunResult;
  progRunInto(progFd: number, data: Uint8Array, offset: number, length: number, ifindex: number, rxQueue: number,
    into: Uint8Array, outLength: Uint32Array): number;
  Xsk: new (opts: XskOptions) => XskInstance;
  RingBuffer: new (mapFd: number, callback: RingBufferCallback) => RingBufferInstance;
  btfStruct(objPath: string, name: string): BtfStruct;
  btfEnum(objPath: string, name: string): Record<string, number>;
  ifNameToIndex(name: string): number;
  ifIndexToName(index: number): string;
  monotonicNs(): bigint;
  realtimeNs(): bigint;
  ifQueueCount(ifname: string): number;
  sdNotify(socketPath: string, message: string): void;
  linkState(ifindex: number, netnsid: number): LinkState | null;
}

/**
 * The package root: the nearest ancestor directory holding the xdpfw
 * package.json (works from lib/dataplane/ and dist/lib/dataplane/ alike).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
        if (typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === 'xdpfw') {
          return dir;
        }
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('xdpfw native: cannot find the xdpfw package root');
    dir = parent;
  }
}

/** Absolute path of the compiled addon. */
export function addonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'xdpfw_native.node');
}

let loaded: NativeAddon | undefined;

function native(): NativeAddon {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    const addon = require(addonPath()) as NativeAddon;
    addon.setErrorClass(NativeError);
    loaded = addon;
  }
  return loaded;
}

// ----------------------------------------------------------------- functions

/** Open and load a BPF object file (see OpenObjectOptions.pinDir for pinning). */
export function openObject(path: string, opts: OpenObjectOptions = {}): BpfObject {
  return native().openObject(path, opts);
}

/** Attach an XDP program through a bpf_link; 'auto' tries native, then generic. */
export function attachXdp(progFd: number, ifindex: number, mode: XdpAttachMode): XdpAttachment {
  return native().attachXdp(progFd, ifindex, mode);
}

/** Attaches a tc program to an interface's egress through a bpf_link (tcx); closing the fd detaches it. */
export function attachTcxEgress(progFd: number, ifindex: number): number {
  return native().attachTcxEgress(progFd, ifindex);
}

/** An AF_PACKET socket that only sends, each frame with skb->mark `mark`. */
export function packetSocket(mark: number): number {
  return native().packetSocket(mark);
}

/** Sends data[offset, offset + length) (an Ethernet frame) out of ifindex; 0, or the errno of the failure. */
export function packetSend(fd: number, ifindex: number, data: Uint8Array, offset: number, length: number): number {
  return native().packetSend(fd, ifindex, data, offset, length);
}

/** Atomically replace the program of a link. */
export function linkUpdate(linkFd: number, progFd: number): void {
  native().linkUpdate(linkFd, progFd);
}

export function linkInfo(fd: number): LinkInfo {
  return native().linkInfo(fd);
}

/** Detach the link's program (the fd stays open; close it with closeFd). */
export function linkDetach(fd: number): void {
  native().linkDetach(fd);
}

/** Pin a map/program/link fd at a bpffs path. */
export function pinObject(fd: number, path: string): void {
  native().pinObject(fd, path);
}

/** Open a pinned object; returns a new fd (close it with closeFd). */
export function getPinned(path: string): number {
  return native().getPinned(path);
}

export function closeFd(fd: number): void {
  native().closeFd(fd);
}

export function progInfo(fd: number): ProgInfo {
  return native().progInfo(fd);
}

export function mapInfo(fd: number): MapInfo {
  return native().mapInfo(fd);
}

/**
 * Look up `key`, filling `value` in place; false if absent. Keys must be
 * exactly keySize bytes; values at least valueSize (per-CPU maps:
 * round_up(valueSize, 8) * numPossibleCpus()).
 */
export function mapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean {
  return native().mapLookup(fd, key, value);
}

/** flags: BPF_ANY, BPF_NOEXIST or BPF_EXIST */
export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number = BPF_ANY): void {
  native().mapUpdate(fd, key, value, flags);
}

/** false if the key was absent */
export function mapDelete(fd: number, key: Uint8Array): boolean {
  return native().mapDelete(fd, key);
}

/**
 * Read the whole map (batched; falls back to key iteration for map types
 * without batch support). keySize/valueSize must match the map; valueSize
 * is the per-CPU total for per-CPU maps.
 */
export function mapDump(fd: number, keySize: number, valueSize: number): MapDump {
  return native().mapDump(fd, keySize, valueSize);
}

/**
 * Update `count` entries; returns how many were done (throws only if none:
 * retry the remainder to get its error). The kernel only accepts BPF_ANY
 * (or BPF_F_LOCK) for batches; BPF_NOEXIST/BPF_EXIST fail with EINVAL.
 */
export function mapUpdateBatch(
  fd: number,
  keys: Uint8Array,
  values: Uint8Array,
  count: number,
  flags: number = BPF_ANY,
): number {
  return native().mapUpdateBatch(fd, keys, values, count, flags);
}

/** Delete `count` keys; absent keys are skipped. Returns how many were deleted. */
export function mapDeleteBatch(fd: number, keys: Uint8Array, count: number): number {
  return native().mapDeleteBatch(fd, keys, count);
}

export function numPossibleCpus(): number {
  return native().numPossibleCpus();
}

/** BPF_PROG_TEST_RUN of an XDP program. */
export function progTestRun(progFd: number, opts: ProgTestRunOptions): ProgTestRunResult {
  return native().progTestRun(progFd, opts);
}

/**
 * A plain BPF_PROG_TEST_RUN of an XDP program on data[offset, offset + length), arriving at
 * ifindex / rxQueue: the packet as the program left it goes to `into`, its length to
 * outLength[0]; returns the verdict. progTestRun without an options or result object.
 */
export function progRunInto(
  progFd: number, data: Uint8Array, offset: number, length: number, ifindex: number, rxQueue: number, into: Uint8Array, outLength: Uint32Array,
): number {
  return native().progRunInto(progFd, data, offset, length, ifindex, rxQueue, into, outLength);
}

/** Layout of a struct/union (or typedef of one) from an object file's BTF. */
export function btfStruct(objPath: string, name: string): BtfStruct {
  return native().btfStruct(objPath, name);
}

/** Members of an enum (or typedef of one) from an object file's BTF. */
export function btfEnum(objPath: string, name: string): Record<string, number> {
  return native().btfEnum(objPath, name);
}

/** throws ENODEV if there is no such interface (in this network namespace) */
export function ifNameToIndex(name: string): number {
  return native().ifNameToIndex(name);
}

export function ifIndexToName(index: number): string {
  return native().ifIndexToName(index);
}

/** CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
export function monotonicNs(): bigint {
  return native().monotonicNs();
}

/** CLOCK_REALTIME in ns. */
export function realtimeNs(): bigint {
  return native().realtimeNs();
}

/** Number of RX queues (ethtool channels, else sysfs, else 1). */
export function ifQueueCount(ifname: string): number {
  return native().ifQueueCount(ifname);
}

/** One datagram to a service manager's notification socket: a path or an '@abstract' name (sd_notify(3)). */
export function sdNotify(socketPath: string, message: string): void {
  native().sdNotify(socketPath, message);
}

/** An interface as the start-up checks see it (rtnetlink and ethtool). */
export interface LinkState {
  ifindex: number;
  name: string;
  /** Where its namespace was found (/run/netns/NAME, /proc/PID/ns/net); '' for ours. */
  netns: string;
  /** IFLA_INFO_KIND: 'veth', 'vlan', ...; '' for a plain device. */
  kind: string;
  mtu: number;
  up: boolean;
  /** The link's other end (a veth's peer); 0 when none. */
  linkIfindex: number;
  /** Our namespace's id for the namespace of linkIfindex; -1 when it is ours. */
  linkNetnsid: number;
  rxQueues: number;
  txQueues: number;
  xdpAttached: boolean;
  /** Offloads, null when the driver does not say. */
  gro: boolean | null;
  txChecksum: boolean | null;
  tso: boolean | null;
  gso: boolean | null;
  lro: boolean | null;
}

/**
 * The interface at ifindex in our network namespace (netnsid -1) or in the
 * one our namespace calls netnsid; null when that namespace or device cannot
 * be found.
 */
export function linkState(ifindex: number, netnsid = -1): LinkState | null {
  return native().linkState(ifindex, netnsid);
}

// ------------------------------------------------------------------ classes

/** An AF_XDP socket with its own UMEM. See XskInstance for the members. */
export class Xsk implements XskInstance {
  readonly fd: number;
  readonly umem: ArrayBuffer;
  readonly mode: XskMode;
  readonly frameSize: number;
  readonly multiBuffer: boolean;
  readonly maxPacket: number;
  readonly #impl: XskInstance;

  constructor(opts: XskOptions) {
    this.#impl = new (native().Xsk)(opts);
    this.fd = this.#impl.fd;
    this.umem = this.#impl.umem;
    this.mode = this.#impl.mode;
    this.frameSize = this.#impl.frameSize;
    this.multiBuffer = this.#impl.multiBuffer;
    this.maxPacket = this.#impl.maxPacket;
  }

  rx(descs: Uint32Array): number {
    return this.#impl.rx(descs);
  }

  tx(frames: Uint8Array, lengths: Uint32Array, count: number): number {
    return this.#impl.tx(frames, lengths, count);
  }

  completeTx(): number {
    return this.#impl.completeTx();
  }

  stats(): XskStats {
    return this.#impl.stats();
  }

  poll(callback: XskPollCallback): void {
    this.#impl.poll(callback);
  }

  stopPoll(): void {
    this.#impl.stopPoll();
  }

  close(): void {
    this.#impl.close();
  }
}

/** Consumer of a BPF ring buffer map; polls from construction until close(). */
export class RingBuffer implements RingBufferInstance {
  readonly #impl: RingBufferInstance;

  constructor(mapFd: number, callback: RingBufferCallback) {
    this.#impl = new (native().RingBuffer)(mapFd, callback);
  }

  consume(): Buffer[] {
    return this.#impl.consume();
  }

  close(): void {
    this.#impl.close();
  }
}
