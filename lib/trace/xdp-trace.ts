// A second instance of the real XDP object, for `xdpfw trace`: it reads the
// running configuration's maps (interfaces, sockets, screen profiles, filter
// programs, settings) and writes only maps of its own (counters, sessions,
// rate state, events, fragments, drop records, tail calls). Whatever map the
// object adds later is private too: only the maps named in SHARED are taken
// from the running dataplane. A packet run through it (plain BPF_PROG_RUN)
// leaves the running firewall's counters, sessions, TCP state, rate-screen
// state and events as they were.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTER_VALUE, FLOW_KEY, SESSION, SESSION_KEY } from '../dataplane/layout.js';
import { flowKeyOf } from '../session/entry.js';
import {
  type BpfObject, RingBuffer, btfEnum, closeFd, getPinned, mapDelete, mapLookup, mapUpdate, numPossibleCpus, openObject, pinObject, progTestRun,
} from '../dataplane/native.js';
import { DROP_WATCH, DROP_RECORD } from '../monitor/drop-entry.js';

/** Configuration the programs only read. Everything else is private to the trace instance. */
const SHARED = [
  'xdpfw_ifaces', 'xdpfw_xsks', 'xdpfw_screen_profiles', 'xdpfw_event_rates', 'xdpfw_tcp_settings', 'xdpfw_pass_ethertypes',
  'xdpfw_neigh_proxies',
  'xdpfw_filter_programs',
  // The daemon's generation of xdpfw_ifaces: this instance's per-CPU copies of entries go stale with it.
  'xdpfw_iface_generation',
] as const;

/** The private hash maps hold what one traced packet needs, not a firewall's worth (they are preallocated). */
const SCRATCH_SIZES: Record<string, number> = {
  xdpfw_sessions: 16, xdpfw_fragments: 16, xdpfw_screen_rates: 256, xdpfw_screen_seen: 256,
};

const TAIL_CALLS: Record<string, string> = {
  XDPFW_TAIL_ICMP_ERROR: 'xdpfw_icmp_error', XDPFW_TAIL_SCREENS: 'xdpfw_screens', XDPFW_TAIL_SESSION: 'xdpfw_session',
};

export interface XdpTraceResult {
  /** XDP verdict (XDP_DROP, XDP_PASS, XDP_REDIRECT, ...). */
  retval: number;
  /** The counters the run moved (C names without XDPFW_CNT_), in index order. */
  counters: string[];
  /** The frame as the program left it, XDP metadata in front (xdpfw_rx_meta for the slow path). */
  out: Buffer;
  /** Bytes of metadata in front of the frame in `out`. */
  metaLength: number;
  /** The drop record's detail (the screen of a screen drop), when the run dropped. */
  dropDetail: number | null;
}

export class XdpTrace {
  private readonly obj: BpfObject;
  private readonly rx: number;
  private readonly cpus = numPossibleCpus();
  private readonly drops: RingBuffer;

  constructor(
    objectPath: string,
    /** The running dataplane's pinned maps, and a scratch directory on the same bpffs. */
    dirs: { mapPinDir: string; scratchDir: string },
    private readonly counterNames: ReadonlyMap<number, string>,
  ) {
    // The shared maps are pinned where this instance looks for its pins; every other map it
    // creates and pins there, then the directory goes: those maps live only through this object.
    rmSync(dirs.scratchDir, { recursive: true, force: true });
    mkdirSync(dirs.scratchDir, { recursive: true });
    try {
      for (const name of SHARED) {
        const fd = getPinned(join(dirs.mapPinDir, name));
        try {
          pinObject(fd, join(dirs.scratchDir, name));
        } finally {
          closeFd(fd);
        }
      }
      this.obj = openObject(objectPath, { pinDir: dirs.scratchDir, maxEntries: SCRATCH_SIZES });
    } finally {
      rmSync(dirs.scratchDir, { recursive: true, force: true });
    }
    this.rx = this.obj.progFd('xdpfw_rx');
    for (const [name, slot] of Object.entries(btfEnum(objectPath, 'xdpfw_tail_call'))) {
      const prog = TAIL_CALLS[name];
      if (prog !== undefined) mapUpdate(this.obj.mapFd('xdpfw_tail_calls'), u32(slot), u32(this.obj.progFd(prog)));
    }
    // Every drop of a trace run is recorded, with its detail.
    const watch = Buffer.alloc(DROP_WATCH.size);
    watch.writeUInt32LE(1_000_000, DROP_WATCH.offset.per_second);
    mapUpdate(this.obj.mapFd('xdpfw_drop_watch'), u32(0), watch);
    this.drops = new RingBuffer(this.obj.mapFd('xdpfw_drops'), () => {});
  }

  /** The firewall's interfaces as redirect targets (the running devmap is not pinned: rebuilt from the config). */
  setPorts(ifindexes: Iterable<number>): void {
    const fd = this.obj.mapFd('xdpfw_tx_ports');
    for (const ix of ifindexes) mapUpdate(fd, u32(ix), u32(ix));
  }

  /**
   * Runs xdpfw_rx on `frame` as received on `ifindex`, with copies of the running session
   * entries named by `sessionEntries` (key -> value) in its own session map.
   */
  run(frame: Buffer, ifindex: number, sessionEntries: ReadonlyArray<[Buffer, Buffer]>): XdpTraceResult {
    const sessions = this.obj.mapFd('xdpfw_sessions');
    for (const [k, v] of sessionEntries) mapUpdate(sessions, k, v);
    this.drops.consume();
    const before = this.readCounters();
    let result;
    try {
      result = progTestRun(this.rx, { data: Buffer.from(frame), ifindex, rxQueue: 0, dataOutSize: frame.length + 512 });
    } finally {
      for (const [k] of sessionEntries) mapDelete(sessions, k);
    }
    const after = this.readCounters();
    const counters = [...after].filter(([i, n]) => n !== (before.get(i) ?? 0n)).map(([i]) => this.counterNames.get(i) ?? `COUNTER_${i}`);
    const records = this.drops.consume();
    const last = records.at(-1);
    const out = result.dataOut ?? Buffer.alloc(0);
    return {
      retval: result.retval, counters, out, metaLength: Math.max(0, out.length - frame.length),
      dropDetail: last && last.length >= DROP_RECORD.size ? last.readUInt32LE(DROP_RECORD.offset.detail) : null,
    };
  }

  /** The running session entry of a packet's tuple (either direction), to copy into this instance (none when no session). */
  static sessionEntries(runningSessions: number, tuple: Buffer): Array<[Buffer, Buffer]> {
    const key = Buffer.alloc(FLOW_KEY.size);
    flowKeyOf(tuple.subarray(0, SESSION_KEY.size), key);
    const value = Buffer.alloc(SESSION.size);
    return mapLookup(runningSessions, key, value) ? [[key, value]] : [];
  }

  private readCounters(): Map<number, bigint> {
    const fd = this.obj.mapFd('xdpfw_counters');
    const stride = COUNTER_VALUE.size;
    const v = Buffer.alloc(stride * this.cpus);
    const out = new Map<number, bigint>();
    for (const i of this.counterNames.keys()) {
      let n = 0n;
      if (mapLookup(fd, u32(i), v)) for (let c = 0; c < this.cpus; c++) n += v.readBigUInt64LE(c * stride + COUNTER_VALUE.offset.packets);
      out.set(i, n);
    }
    return out;
  }

  close(): void {
    this.drops.close();
    this.obj.close();
  }
}


function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}
