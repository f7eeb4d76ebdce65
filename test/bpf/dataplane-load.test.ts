// A dataplane that fails to load leaves no pins behind it created, and never
// removes pins it found (a running daemon's). The failure is real: the pin
// directory is on a tmpfs, where the kernel refuses to pin the maps.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataplane } from '../../lib/dataplane/dataplane.js';
import { type StatePaths, statePaths } from '../../lib/daemon/state-paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'xfw-load-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

/** State paths whose pins go to `pinDir` (not on bpffs). */
function pinnedAt(pinDir: string): StatePaths {
  const base = statePaths(join(scratch, 'state'));
  return { ...base, pinDir, mapPinDir: join(pinDir, 'maps'), linkPinDir: join(pinDir, 'links') };
}

t.test('a failed load removes the pin directory it created', async (t) => {
  const pinDir = join(scratch, 'fresh');
  t.throws(() => new Dataplane(pinnedAt(pinDir)), /not on BPF FS/);
  t.notOk(existsSync(pinDir), 'no pin directory left behind');
});

t.test('a failed load keeps a pin directory it found', async (t) => {
  const pinDir = join(scratch, 'found');
  mkdirSync(join(pinDir, 'maps', 'kept'), { recursive: true });
  t.throws(() => new Dataplane(pinnedAt(pinDir)), /not on BPF FS/);
  t.same(readdirSync(join(pinDir, 'maps')), ['kept'], 'the pin directory stays with what it held');
});
