// The bpffs is not mounted by default on every machine; pins need it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BPFFS_ROOT } from '../daemon/state-paths.js';

export function ensureBpffs(): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === BPFFS_ROOT && l.split(' ')[2] === 'bpf')) return;
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS_ROOT], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot mount the bpffs at ${BPFFS_ROOT}: ${(err as Error).message}`);
  }
}
