// The operator's words for what can go wrong with the interfaces a config
// names: a missing one, or one that refuses XDP or an AF_XDP socket. Each
// error points at the statement that names the interface.
import { interfaceError } from '../config/interface-pos.js';
import type { ConfigError } from '../config/errors.js';
import type { CompiledConfig } from '../config/types.js';
import type { XdpModeRequest } from '../dataplane/dataplane.js';
import { ifNameToIndex, isNativeError } from '../dataplane/native.js';

/** One error per interface the config puts in a zone that this box (this network namespace) does not have. */
export function missingInterfaces(config: CompiledConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  // A trunk unit's device is made by the daemon (lib/interfaces/unit-devices.ts); its trunk must exist.
  const made = new Set(config.trunks.flatMap((t) => t.units.map((u) => u.device)));
  for (const name of config.interfaces) {
    if (made.has(name)) continue;
    try {
      ifNameToIndex(name);
    } catch {
      errors.push(interfaceError(config, name, `interface '${name}' does not exist on this system (network namespace)`));
    }
  }
  return errors;
}

/** Why attaching to `name` failed, in words, with the kernel's error after them. */
export function attachFailure(config: CompiledConfig, name: string, mode: XdpModeRequest, err: unknown): ConfigError {
  const raw = err instanceof Error ? err.message : String(err);
  const code = isNativeError(err) ? err.code : (err as NodeJS.ErrnoException | null)?.code;
  const op = raw.split(':')[0];
  let why: string;
  if (code === 'ENODEV') {
    why = `it no longer exists on this system (it was removed while the config was applied)`;
  } else if (op === 'attachXdp' && code === 'ERANGE' && mode === 'native') {
    why = `its MTU (on a veth, its peer's MTU) is too large for XDP in native mode (the driver has no multi-buffer XDP for frames larger than a page); lower the MTU or use --xdp-mode generic`;
  } else if (op === 'attachXdp' && code === 'ENOSPC' && mode === 'native') {
    why = `it has fewer receive queues than its veth peer has transmit queues, which native XDP refuses; give it as many (ip link add ... numrxqueues N) or use --xdp-mode generic`;
  } else if (op === 'attachXdp' && (code === 'EOPNOTSUPP' || code === 'ENOTSUPP') && mode === 'native') {
    why = `its driver does not support XDP in native mode; use --xdp-mode auto or generic`;
  } else if (op === 'attachXdp' && (code === 'EBUSY' || code === 'EEXIST')) {
    why = `another XDP program is attached to it; detach that one first`;
  } else if (op === 'attachXdp') {
    why = `XDP cannot be attached to it`;
  } else if (op.startsWith('Xsk')) {
    why = `no AF_XDP socket can be bound to its queues`;
  } else {
    why = `it cannot be set up`;
  }
  return interfaceError(config, name, `interface '${name}': ${why} (${raw})`);
}
