// The daemon's side of `xdpfw trace`: the trace instance of the XDP object
// (loaded on the first trace, kept until the daemon stops) and the running
// engines, judging one described packet.
import type { CompiledConfig, Zone } from '../config/types.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import { ifIndexToName, ifNameToIndex } from '../dataplane/native.js';
import { SESSION_KEY } from '../dataplane/layout.js';
import { SCREENS } from '../events/screens.js';
import { screenConstants } from '../screens/screen-ids.js';
import type { SessionTable } from '../session/table.js';
import type { SlowPath } from '../slowpath/slowpath.js';
import { RouteProbe } from '../slowpath/route-probe.js';
import type { StatePaths } from '../daemon/state-paths.js';
import { parsePacketHead } from '../monitor/packet-head.js';
import { buildPacket, frameFromHex, type PacketSpec } from './packet.js';
import { type TraceReport, trace } from './trace.js';
import { XdpTrace } from './xdp-trace.js';
import { join } from 'node:path';

export interface TraceRequest extends Partial<PacketSpec> {
  interface: string;
  hex?: string;
}

/** The session key of a frame given whole (--hex): TCP, UDP and others by ports; none for ICMP. */
function keyOfHex(frame: Buffer): Buffer | null {
  const h = parsePacketHead(frame);
  if (h.family === null || h.protocol === null || h.source === null || h.destination === null || h.icmpType !== null) return null;
  try {
    return buildPacket({
      sourceIp: h.source, destinationIp: h.destination, protocol: String(h.protocol),
      sourcePort: h.sourcePort ?? 0, destinationPort: h.destinationPort ?? 0,
    }).key;
  } catch {
    return null;
  }
}

export class Tracer {
  private xdp: XdpTrace | null = null;
  private readonly routes: RouteProbe;

  constructor(
    private readonly dataplane: Dataplane,
    private readonly paths: StatePaths,
    private readonly sessions: SessionTable,
    private readonly slowPath: SlowPath,
    private readonly config: () => CompiledConfig,
  ) {
    this.routes = new RouteProbe(dataplane.progs.route);
  }

  trace(req: TraceRequest): TraceReport {
    let ifindex: number;
    try {
      ifindex = ifNameToIndex(req.interface);
    } catch {
      throw new Error(`--interface: no interface ${req.interface} on this box`);
    }
    const config = this.config();
    if (!config.interfaces.includes(req.interface)) throw new Error(`--interface: ${req.interface} is not a firewall interface (${config.interfaces.join(', ')})`);
    let frame: Buffer;
    let key: Buffer | null;
    if (req.hex !== undefined) {
      frame = frameFromHex(req.hex);
      key = keyOfHex(frame);
    } else {
      if (!req.sourceIp || !req.destinationIp || !req.protocol) throw new Error('describe the packet: --source-ip, --destination-ip and --protocol (or --hex FRAME)');
      ({ frame, key } = buildPacket(req as PacketSpec));
    }
    if (key && key.length !== SESSION_KEY.size) key = null;
    this.xdp ??= this.load();
    this.xdp.setPorts(config.interfaces.flatMap((n) => { try { return [ifNameToIndex(n)]; } catch { return []; } }));
    const zoneOf = (ix: number): Zone | null => {
      try {
        return config.zoneByInterface.get(ifIndexToName(ix)) ?? null;
      } catch {
        return null;
      }
    };
    const screens = screenConstants(this.dataplane.objectPath).ids;
    const screenName = (id: number) => {
      for (const [k, v] of screens) if (v === id) return SCREENS[k].attackName as string;
      return `screen ${id}`;
    };
    return trace({
      xdp: this.xdp, runningSessions: this.dataplane.mapFd('xdpfw_sessions'), sessions: this.sessions,
      filters: this.slowPath.flowFilters, policies: this.slowPath.policies, routes: this.routes, config, zoneOf,
      nameOf: (ix) => { try { return ifIndexToName(ix); } catch { return `ifindex ${ix}`; } }, screenName,
    }, frame, key, ifindex);
  }

  private load(): XdpTrace {
    const counters = new Map([...this.dataplane.constants.counters].map(([name, id]) => [id, name]));
    return new XdpTrace(this.dataplane.objectPath, { mapPinDir: this.paths.mapPinDir, scratchDir: join(this.paths.pinDir, 'trace-scratch') }, counters);
  }

  close(): void {
    this.xdp?.close();
    this.xdp = null;
  }
}
