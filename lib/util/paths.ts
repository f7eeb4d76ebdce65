// Locations inside the installed package, whatever the working directory.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'xdpfw') return dir;
    }
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
