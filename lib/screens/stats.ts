// `xdpfw show screen statistics [--zone Z]`: per zone, per screen, what the
// screens did. The XDP screens count in xdpfw_screen_stats (per-CPU: no
// contended writes in a flood; summed here); the session limits are judged
// in the slow path and counted by its SessionLimiter.
import type { CompiledConfig } from '../config/types.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import { SCREEN_COUNTER } from '../dataplane/layout.js';
import { mapLookup } from '../dataplane/native.js';
import { enabledScreens } from './profile.js';
import { SCREEN_KEYS, type ScreenKey, screenConstants } from './screen-ids.js';
import type { SessionLimiter } from './session-limit.js';

export interface ScreenCounts {
  drops: number;
  /** alarm-without-drop: counted and logged, the packet (or session) went on. */
  alarms: number;
  /** Events not written to the ring buffer past the per-second budget of the (zone, screen). */
  eventsSuppressed: number;
}

export interface ZoneScreenStats {
  zone: string;
  zoneId: number;
  /** The zone's `screen` profile, or null. */
  profile: string | null;
  /** Every screen the profile turns on, and any other that has counts (from an earlier configuration). */
  screens: Partial<Record<ScreenKey, ScreenCounts>>;
}

export interface ScreenStatsReport {
  zones: ZoneScreenStats[];
}

const C = SCREEN_COUNTER.offset;

/** Throws for a zone name the configuration does not have. */
export function screenStatsReport(
  dataplane: Dataplane,
  config: CompiledConfig,
  limiter: SessionLimiter | null,
  zoneName?: string,
): ScreenStatsReport {
  const zones = zoneName === undefined ? config.zones : config.zones.filter((z) => z.name === zoneName);
  if (zoneName !== undefined && zones.length === 0) throw new Error(`no security-zone named '${zoneName}'`);
  const c = screenConstants(dataplane.objectPath);
  const fd = dataplane.mapFd('xdpfw_screen_stats');
  const value = Buffer.alloc(SCREEN_COUNTER.size * dataplane.cpus);
  const key = Buffer.alloc(4);
  const read = (slot: number): ScreenCounts => {
    const sum: ScreenCounts = { drops: 0, alarms: 0, eventsSuppressed: 0 };
    key.writeUInt32LE(slot);
    if (!mapLookup(fd, key, value)) return sum;
    for (let at = 0; at < value.length; at += SCREEN_COUNTER.size) {
      sum.drops += Number(value.readBigUInt64LE(at + C.drops));
      sum.alarms += Number(value.readBigUInt64LE(at + C.alarms));
      sum.eventsSuppressed += Number(value.readBigUInt64LE(at + C.events_suppressed));
    }
    return sum;
  };
  return {
    zones: zones.map((zone) => {
      const profile = zone.screen === null ? undefined : config.screens.get(zone.screen);
      const on = new Set(profile ? enabledScreens(profile) : []);
      const limits = limiter?.counts(zone.id);
      const screens: Partial<Record<ScreenKey, ScreenCounts>> = {};
      for (const name of SCREEN_KEYS) {
        const counts = zone.id < c.maxZones ? read(zone.id * c.slots + c.ids.get(name)!) : { drops: 0, alarms: 0, eventsSuppressed: 0 };
        if (name === 'src-ip-session-limit' || name === 'dst-ip-session-limit') {
          counts.drops += limits?.[name].drops ?? 0;
          counts.alarms += limits?.[name].alarms ?? 0;
        }
        if (on.has(name) || counts.drops || counts.alarms || counts.eventsSuppressed) screens[name] = counts;
      }
      return { zone: zone.name, zoneId: zone.id, profile: zone.screen, screens };
    }),
  };
}

/** The report for people: a block per zone, a line per screen. */
export function formatScreenStats(r: ScreenStatsReport): string {
  const lines: string[] = [];
  for (const z of r.zones) {
    lines.push(`Zone ${z.zone}: ${z.profile === null ? 'no screen' : `screen ${z.profile}`}`);
    const rows = Object.entries(z.screens) as Array<[ScreenKey, ScreenCounts]>;
    if (rows.length) lines.push(`  ${'screen'.padEnd(24)} ${'drops'.padStart(12)} ${'alarms'.padStart(12)} ${'not logged'.padStart(12)}`);
    for (const [name, n] of rows) {
      lines.push(`  ${name.padEnd(24)} ${String(n.drops).padStart(12)} ${String(n.alarms).padStart(12)} ${String(n.eventsSuppressed).padStart(12)}`);
    }
  }
  return lines.join('\n');
}
