// Runs the calling test file again inside a fresh network namespace (set up
// by `setup` commands), relays its TAP output, removes the namespace however
// the child ends, and exits with the child's code. The child sees
// insideTestNetns() === true. Only the network namespace changes: the bpffs
// and the file system stay shared.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENV = 'XDPFW_TEST_NETNS';

export function insideTestNetns(): string | undefined {
  return process.env[ENV];
}

export function reexecInNetns(moduleUrl: string, setup: readonly string[]): void {
  if (insideTestNetns()) return;
  const ns = `xfwb${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let code = 1;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    for (const cmd of setup) execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { stdio: 'inherit' });
    const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, process.execPath, fileURLToPath(moduleUrl)], {
      stdio: 'inherit',
      env: { ...process.env, [ENV]: ns },
    });
    code = r.status ?? 1;
  } finally {
    try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
  }
  process.exit(code);
}
