// The daemon's side of trunk units: the devices its config wants, and
// xdpfw_vlan_tx on each unit's internal end through a pinned bpf_link (kept
// across restarts like xdpfw_rx's links, so a unit keeps sending while no
// daemon runs, and removed with the pins by `xdpfw unload`).
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Trunk } from './resolve.js';
import type { UnitDevice } from './unit-devices.js';
import { attachXdp, closeFd, getPinned, ifNameToIndex, linkInfo, linkUpdate, pinObject } from '../dataplane/native.js';
import type { XdpModeRequest } from '../dataplane/dataplane.js';
import { linkPinName } from '../daemon/state-paths.js';

/** The unit devices a config's trunks want. */
export function unitDevicesOf(trunks: readonly Trunk[]): UnitDevice[] {
  return trunks.flatMap((t) => t.units.map((u) => ({ trunk: t.device, vlanId: u.vlanId, device: u.device, internal: u.internal, addresses: u.addresses })));
}

/** Attaches (or switches to) `progFd` on a unit's internal end, pinned under `linkPinDir` by the end's name. */
export function attachUnitTx(progFd: number, linkPinDir: string, internal: string, mode: XdpModeRequest): void {
  const ifindex = ifNameToIndex(internal);
  const pin = join(linkPinDir, linkPinName(internal));
  if (existsSync(pin)) {
    const fd = getPinned(pin);
    try {
      if (linkInfo(fd).ifindex === ifindex) {
        linkUpdate(fd, progFd);
        return;
      }
    } finally {
      closeFd(fd);
    }
    unlinkSync(pin); // the device was recreated since: that link is dead
  }
  const link = attachXdp(progFd, ifindex, mode);
  try {
    pinObject(link.linkFd, pin);
  } finally {
    closeFd(link.linkFd); // pinned, the link outlives this fd; unpinned, it goes with it
  }
}

/** Removes the pinned links of these internal ends (their devices are gone or going). */
export function unpinUnitTx(linkPinDir: string, internals: Iterable<string>): void {
  for (const name of internals) {
    const pin = join(linkPinDir, linkPinName(name));
    if (existsSync(pin)) unlinkSync(pin);
  }
}
