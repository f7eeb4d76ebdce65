// Reads a configuration file without ever blocking: only a regular file is
// read. A FIFO, a device or a socket named as a config would block the
// reader (for the daemon: its whole event loop, slow path included) or never
// end, so it is refused before it is opened, and again after opening with
// O_NONBLOCK (the path may have been swapped in between).
import { type Stats, closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';

/** Larger than any sane configuration; a bigger file is refused rather than read into memory. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export class ConfigFileError extends Error {}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

function refuseUnlessRegular(path: string, st: Stats): void {
  if (!st.isFile()) throw new ConfigFileError(`${path} is ${kindOf(st)}, not a regular file`);
  if (st.size > MAX_CONFIG_BYTES) {
    throw new ConfigFileError(`${path} is ${st.size} bytes, more than the ${MAX_CONFIG_BYTES} bytes a configuration may have`);
  }
}

function explain(path: string, err: unknown): ConfigFileError {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT': return new ConfigFileError(`${path}: no such file`);
    case 'ENOTDIR': return new ConfigFileError(`${path}: a part of the path is not a directory`);
    case 'EACCES':
    case 'EPERM': return new ConfigFileError(`${path}: permission denied (the file must be readable by the user running xdpfw)`);
    case 'ELOOP': return new ConfigFileError(`${path}: too many symbolic links`);
    default: return new ConfigFileError(`${path}: ${e.message}`);
  }
}

/** Checks, without opening it, that `path` names a regular file of sane size. */
export function checkConfigPath(path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw explain(path, err);
  }
  refuseUnlessRegular(path, st);
}

/** The text of a regular file; throws ConfigFileError for anything else, never blocks. */
export function readConfigText(path: string): string {
  checkConfigPath(path);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw explain(path, err);
  }
  try {
    refuseUnlessRegular(path, fstatSync(fd));
    return readFileSync(fd, 'utf8');
  } catch (err) {
    throw err instanceof ConfigFileError ? err : explain(path, err);
  } finally {
    closeSync(fd);
  }
}
