// The pure parts of an atomic reload: undo steps, where a config names an
// interface, and reading a config only from a regular file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { interfaceError, interfacePos } from '../../lib/config/interface-pos.js';
import { MAX_CONFIG_BYTES, readConfigText } from '../../lib/config/read-file.js';
import { UndoLog } from '../../lib/daemon/undo-log.js';

t.test('undo steps run newest first, all of them, even when one fails', async (t) => {
  const log = new UndoLog();
  const ran: number[] = [];
  log.push(() => ran.push(1));
  log.push(() => { throw new Error('step 2 failed'); });
  log.push(() => ran.push(3));
  t.ok(log.pending);
  const failures = log.run();
  t.same(ran, [3, 1]);
  t.same(failures.map((e) => e.message), ['step 2 failed']);
  t.notOk(log.pending, 'nothing left to undo');
  t.same(log.run(), [], 'and running again does nothing');
  t.same(ran, [3, 1]);
});

t.test('a cleared log undoes nothing', async (t) => {
  const log = new UndoLog();
  let undone = false;
  log.push(() => (undone = true));
  log.clear();
  t.notOk(log.pending);
  log.run();
  t.notOk(undone);
});

t.test('the position of the statement that puts an interface in a zone', async (t) => {
  const text = 'security {\n    zones {\n        security-zone a { interfaces { eth0; } }\n' +
    '        security-zone b {\n            interfaces {\n                inactive: eth2;\n                eth1;\n            }\n        }\n    }\n}\n';
  const r = compileText(text, 'z.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  t.match(interfacePos(r.config, 'eth0'), { file: 'z.conf', line: 3, column: 40 });
  t.match(interfacePos(r.config, 'eth1'), { file: 'z.conf', line: 7, column: 17 });
  t.equal(interfacePos(r.config, 'eth2'), null, 'an inactive statement puts nothing in a zone');
  t.equal(interfaceError(r.config, 'eth1', 'gone').toString(), 'z.conf:7:17: gone');
  t.equal(interfaceError(r.config, 'eth9', 'gone').toString(), 'z.conf:1:1: gone', 'at 1:1 when no statement names it');
});

t.test('only a regular file is read as a configuration', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-read-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.conf');
  writeFileSync(file, 'set security zones security-zone a\n');
  t.equal(readConfigText(file), 'set security zones security-zone a\n');
  symlinkSync(file, join(dir, 'link.conf'));
  t.equal(readConfigText(join(dir, 'link.conf')), 'set security zones security-zone a\n', 'a link to a regular file is fine');
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  t.throws(() => readConfigText(fifo), /fifo is a FIFO \(named pipe\), not a regular file/, 'a FIFO without a writer: refused, not waited on');
  symlinkSync(fifo, join(dir, 'to-fifo'));
  t.throws(() => readConfigText(join(dir, 'to-fifo')), /to-fifo is a FIFO/, 'also behind a symbolic link');
  t.throws(() => readConfigText(dir), /is a directory, not a regular file/);
  t.throws(() => readConfigText('/dev/zero'), /\/dev\/zero is a character device, not a regular file/);
  t.throws(() => readConfigText(join(dir, 'none')), /none: no such file/);
  t.throws(() => readConfigText(join(file, 'x')), /a part of the path is not a directory/);
  const big = join(dir, 'big.conf');
  writeFileSync(big, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
  t.throws(() => readConfigText(big), /more than the \d+ bytes a configuration may have/);
});
