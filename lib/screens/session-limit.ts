// Junos `limit-session { source-ip-based N; destination-ip-based N; }`:
// concurrent sessions per source and per destination address, judged by the
// slow path when it is about to create a session in the zone the first
// packet arrived in. Active sessions are counted in every zone, limited or
// not, so a limit that a reload adds applies to the sessions already there.
// Per admitted session: two Map updates, and for IPv4 no allocation.
import type { CompiledConfig } from '../config/types.js';
import { SESSION_KEY } from '../dataplane/layout.js';
import { AF_INET6 } from '../session/flow-key.js';

export type SessionLimitScreen = 'src-ip-session-limit' | 'dst-ip-session-limit';

export interface SessionLimitHit {
  readonly screen: SessionLimitScreen;
  /** 'alarm': alarm-without-drop, the session was admitted and counted all the same. */
  readonly action: 'drop' | 'alarm';
}

export interface LimitCounts {
  drops: number;
  alarms: number;
}

interface ZoneLimits {
  source: number;
  destination: number;
  alarmOnly: boolean;
}

const K = SESSION_KEY.offset;

const HITS = {
  source: { drop: hit('src-ip-session-limit', 'drop'), alarm: hit('src-ip-session-limit', 'alarm') },
  destination: { drop: hit('dst-ip-session-limit', 'drop'), alarm: hit('dst-ip-session-limit', 'alarm') },
};

function hit(screen: SessionLimitScreen, action: 'drop' | 'alarm'): SessionLimitHit {
  return Object.freeze({ screen, action });
}

/** Active sessions per (zone, address). */
class AddressCounts {
  private readonly v4 = new Map<number, number>();
  private readonly v6 = new Map<string, number>();

  get(zoneId: number, key: Uint8Array, at: number): number {
    return key[K.family] === AF_INET6 ? (this.v6.get(v6Id(zoneId, key, at)) ?? 0) : (this.v4.get(v4Id(zoneId, key, at)) ?? 0);
  }

  add(zoneId: number, key: Uint8Array, at: number, delta: 1 | -1): void {
    if (key[K.family] === AF_INET6) bump(this.v6, v6Id(zoneId, key, at), delta);
    else bump(this.v4, v4Id(zoneId, key, at), delta);
  }
}

function bump<T>(m: Map<T, number>, id: T, delta: 1 | -1): void {
  const n = (m.get(id) ?? 0) + delta;
  if (n > 0) m.set(id, n);
  else m.delete(id);
}

/** zone * 2^32 + address: exact in a double for any u16 zone id. */
function v4Id(zoneId: number, key: Uint8Array, at: number): number {
  return zoneId * 0x1_0000_0000 + (((key[at]! << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) | key[at + 3]!) >>> 0);
}

function v6Id(zoneId: number, key: Uint8Array, at: number): string {
  return `${zoneId}/${Buffer.from(key.buffer, key.byteOffset + at, 16).toString('latin1')}`;
}

export class SessionLimiter {
  private limits = new Map<number, ZoneLimits>();
  private readonly bySource = new AddressCounts();
  private readonly byDestination = new AddressCounts();
  private readonly refused = new Map<number, Record<SessionLimitScreen, LimitCounts>>();

  constructor(config: CompiledConfig) {
    this.configure(config);
  }

  /** Takes the limits of a (new) configuration; active counts are kept. */
  configure(config: CompiledConfig): void {
    this.limits = new Map();
    for (const zone of config.zones) {
      const p = zone.screen === null ? undefined : config.screens.get(zone.screen);
      if (!p || (p.limitSession.source === null && p.limitSession.destination === null)) continue;
      this.limits.set(zone.id, {
        source: p.limitSession.source ?? Infinity,
        destination: p.limitSession.destination ?? Infinity,
        alarmOnly: p.alarmWithoutDrop,
      });
    }
  }

  /**
   * Judges a new session that arrived in zone `zoneId`, keyed `key` (struct xdpfw_session_key,
   * client to server). null: admitted and counted. A hit with action 'drop': refused, not
   * counted. A hit with action 'alarm': admitted and counted (alarm-without-drop).
   */
  admit(zoneId: number, key: Uint8Array): SessionLimitHit | null {
    const limits = this.limits.get(zoneId);
    let found: SessionLimitHit | null = null;
    if (limits) {
      const which =
        this.bySource.get(zoneId, key, K.src_addr) >= limits.source ? 'source'
        : this.byDestination.get(zoneId, key, K.dst_addr) >= limits.destination ? 'destination'
        : null;
      if (which) {
        found = HITS[which][limits.alarmOnly ? 'alarm' : 'drop'];
        const counts = this.countsOf(zoneId)[found.screen];
        if (limits.alarmOnly) counts.alarms++;
        else {
          counts.drops++;
          return found;
        }
      }
    }
    this.restore(zoneId, key);
    return found;
  }

  /** Counts a session without judging it: one found in the pinned map at start-up. */
  restore(zoneId: number, key: Uint8Array): void {
    this.bySource.add(zoneId, key, K.src_addr, 1);
    this.byDestination.add(zoneId, key, K.dst_addr, 1);
  }

  /** A session admitted (or restored) with these arguments is gone, or was never installed. */
  release(zoneId: number, key: Uint8Array): void {
    this.bySource.add(zoneId, key, K.src_addr, -1);
    this.byDestination.add(zoneId, key, K.dst_addr, -1);
  }

  /** Active sessions from the key's source and to its destination in the zone. */
  active(zoneId: number, key: Uint8Array): { source: number; destination: number } {
    return { source: this.bySource.get(zoneId, key, K.src_addr), destination: this.byDestination.get(zoneId, key, K.dst_addr) };
  }

  /** Sessions refused (drops) or alarmed so far in the zone, by screen; absent when none. */
  counts(zoneId: number): Readonly<Record<SessionLimitScreen, LimitCounts>> | undefined {
    return this.refused.get(zoneId);
  }

  private countsOf(zoneId: number): Record<SessionLimitScreen, LimitCounts> {
    let c = this.refused.get(zoneId);
    if (!c) {
      c = { 'src-ip-session-limit': { drops: 0, alarms: 0 }, 'dst-ip-session-limit': { drops: 0, alarms: 0 } };
      this.refused.set(zoneId, c);
    }
    return c;
  }
}
