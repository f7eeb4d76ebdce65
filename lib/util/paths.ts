// Locations inside the installed package, whatever the working directory.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    // Read, not existsSync: access(2) checks the real uid without capabilities.
    let manifest: string | null = null;
    try {
      manifest = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch {
      // none here: look further up
    }
    if (manifest !== null && (JSON.parse(manifest) as { name?: string }).name === 'xdpfw') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('xdpfw package root not found');
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();

/** Compiled BPF object by base name, e.g. bpfObjectPath('xdpfw'). */
export function bpfObjectPath(name: string): string {
  return join(packageRoot, 'dist', 'bpf', `${name}.bpf.o`);
}
