// Puts the configuration's screen profiles where the XDP program reads them:
// xdpfw_screen_profiles, one struct xdpfw_screen_profile per zone id. Every
// entry is written each time, so a zone that lost its screen (or is gone)
// gets an all-zero profile: nothing checked. Safe to call again on reload;
// counters and rate state are left alone.
import { MAX_SCREENED_ZONE_ID } from '../config/screens.js';
import type { CompiledConfig } from '../config/types.js';
import type { Dataplane } from '../dataplane/dataplane.js';
import { SCREEN_PROFILE } from '../dataplane/layout.js';
import { mapUpdateBatch } from '../dataplane/native.js';
import { encodeProfile } from './profile.js';
import { screenConstants } from './screen-ids.js';
import { addWhiteLists, encodeWhiteLists, pruneWhiteLists } from './white-list.js';

/** Every zone's profile, encoded for xdpfw_screen_profiles: computed before anything is written. */
export interface ScreenProfiles {
  keys: Buffer;
  values: Buffer;
  count: number;
  /** xdpfw_screen_allow keys: every syn-flood white-list prefix. */
  allow: Buffer[];
}

export function encodeScreens(dataplane: Dataplane, config: CompiledConfig): ScreenProfiles {
  const c = screenConstants(dataplane.objectPath);
  if (c.maxZones !== MAX_SCREENED_ZONE_ID + 1) {
    throw new Error(`${dataplane.objectPath} has room for ${c.maxZones} screened zones, lib/config/screens.ts allows ${MAX_SCREENED_ZONE_ID + 1}`);
  }
  const size = SCREEN_PROFILE.size;
  const keys = Buffer.alloc(4 * c.maxZones);
  const values = Buffer.alloc(size * c.maxZones);
  for (let zone = 0; zone < c.maxZones; zone++) keys.writeUInt32LE(zone, 4 * zone);
  for (const zone of config.zones) {
    if (zone.screen !== null) encodeProfile(config.screens.get(zone.screen)!, c, values, zone.id * size);
  }
  return { keys, values, count: c.maxZones, allow: encodeWhiteLists(dataplane.objectPath, config) };
}

export function writeScreens(dataplane: Dataplane, profiles: ScreenProfiles): void {
  const size = SCREEN_PROFILE.size;
  const fd = dataplane.mapFd('xdpfw_screen_profiles');
  addWhiteLists(dataplane, profiles.allow);
  for (let done = 0; done < profiles.count;) {
    done += mapUpdateBatch(fd, profiles.keys.subarray(4 * done), profiles.values.subarray(size * done), profiles.count - done);
  }
  pruneWhiteLists(dataplane, profiles.allow);
}

export function applyScreens(dataplane: Dataplane, config: CompiledConfig): void {
  writeScreens(dataplane, encodeScreens(dataplane, config));
}
