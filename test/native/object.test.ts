// Loading BPF objects, map pinning/reuse, and fd-level operations.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  BPF_ANY,
  closeFd,
  getPinned,
  mapInfo,
  mapLookup,
  mapUpdate,
  openObject,
  pinObject,
  progInfo,
} from '../../lib/dataplane/native.js';
import {
  BAD_BPF_SOURCE,
  FLOW_KEY_SIZE,
  FLOW_VAL_SIZE,
  compileBpf,
  compileTestObject,
  openTestObject,
  pinDir,
  tmpDir, thrown } from './fixture.js';

const USER_MAPS = ['config', 'counters', 'events', 'flows', 'prefixes', 'xsks'];

t.test('lists maps and programs of a loaded object', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const maps = obj.maps();
  const names = maps.map((m) => m.name);
  for (const name of USER_MAPS) t.ok(names.includes(name), `map ${name}`);
  t.ok(names.some((n) => n.endsWith('.rodata')), 'internal .rodata map listed');

  const flows = maps.find((m) => m.name === 'flows');
  t.match(flows, { type: 1, keySize: FLOW_KEY_SIZE, valueSize: FLOW_VAL_SIZE, maxEntries: 1024 });
  t.equal(obj.mapFd('flows'), flows?.fd);
  t.match(mapInfo(obj.mapFd('flows')), { name: 'flows', type: 1, keySize: 16, valueSize: 32, maxEntries: 1024 });
  t.match(mapInfo(obj.mapFd('events')), { type: 27, maxEntries: 65536 });

  const progs = obj.programs();
  t.same(
    progs.map((p) => [p.name, p.section]).sort(),
    [
      ['xdp_count', 'xdp'],
      ['xdp_main', 'xdp'],
    ],
  );
  const main = progs.find((p) => p.name === 'xdp_main');
  t.equal(obj.progFd('xdp_main'), main?.fd);
  const info = progInfo(obj.progFd('xdp_main'));
  t.equal(info.name, 'xdp_main');
  t.match(info.tag, /^[0-9a-f]{16}$/);
  t.ok(info.id > 0);

  t.equal(thrown(() => obj.mapFd('nope')).code, 'ENOENT');
  t.match(thrown(() => obj.progFd('nope')).message, /^progFd: No such file or directory \(no program named 'nope'\)/);
  t.end();
});

t.test('close is idempotent and invalidates the object', (t) => {
  const obj = openObject(compileTestObject(t));
  obj.close();
  obj.close();
  const e = thrown(() => obj.maps());
  t.equal(e.code, 'EBADF');
  t.match(e.message, /BpfObject is closed/);
  t.end();
});

t.test('maps are pinned in pinDir and reused by the next load', (t) => {
  const path = compileTestObject(t);
  const dir = join(pinDir(t), 'nested', 'state'); // created on demand
  const key = Buffer.alloc(FLOW_KEY_SIZE, 0x11);
  const value = Buffer.alloc(FLOW_VAL_SIZE, 0x22);

  const first = openObject(path, { pinDir: dir });
  t.same(readdirSync(dir).sort(), USER_MAPS, 'user maps pinned, internal maps not');
  const firstId = mapInfo(first.mapFd('flows')).id;
  const firstRodata = first.maps().find((m) => m.name.endsWith('.rodata'));
  mapUpdate(first.mapFd('flows'), key, value, BPF_ANY);
  first.close();

  const second = openTestObject(t, path, { pinDir: dir });
  t.equal(mapInfo(second.mapFd('flows')).id, firstId, 'same kernel map');
  const got = Buffer.alloc(FLOW_VAL_SIZE);
  t.equal(mapLookup(second.mapFd('flows'), key, got), true, 'state survived the reload');
  t.same(got, value);
  const rodata = second.maps().find((m) => m.name.endsWith('.rodata'));
  t.ok(firstRodata !== undefined && rodata !== undefined);
  t.end();
});

t.test('maxEntries sizes a map before it is created; a map it does not name is refused', (t) => {
  const path = compileTestObject(t);
  const small = openTestObject(t, path, { maxEntries: { flows: 16 } });
  t.equal(mapInfo(small.mapFd('flows')).maxEntries, 16);
  t.equal(mapInfo(small.mapFd('prefixes')).maxEntries, mapInfo(openTestObject(t, path).mapFd('prefixes')).maxEntries, 'the others as compiled');
  const e = thrown(() => openObject(path, { maxEntries: { nope: 4 } }));
  t.match(e.message, /maxEntries: no map nope/);
  t.end();
});

t.test('an incompatible pinned map is refused with a clear error', (t) => {
  const dir = pinDir(t);
  openTestObject(t, compileTestObject(t), { pinDir: dir });
  const bigger = compileTestObject(t, ['FLOWS_MAX=2048']);
  const e = thrown(() => openObject(bigger, { pinDir: dir }));
  t.equal(e.code, 'EINVAL');
  t.match(e.message, /^openObject: map flows: pinned map incompatible/);
  t.match(e.message, /max_entries=1024.*max_entries=2048/);
  t.match(e.log ?? '', /couldn't reuse pinned map/);
  t.ok(existsSync(join(dir, 'flows')), 'the pinned map is left alone');
  t.end();
});

t.test('a verifier rejection carries the verifier log', (t) => {
  const bad = compileBpf(tmpDir(t), 'bad', BAD_BPF_SOURCE);
  const e = thrown(() => openObject(bad));
  t.equal(e.code, 'EACCES');
  t.match(e.message, /^openObject: load .*bad\.bpf\.o: Permission denied/);
  t.match(e.message, /invalid access to packet/);
  t.match(e.log ?? '', /BEGIN PROG LOAD LOG/);
  t.end();
});

t.test('a missing or non-BPF file fails to open', (t) => {
  t.equal(thrown(() => openObject('/nonexistent/x.bpf.o')).code, 'ENOENT');
  const junk = join(tmpDir(t), 'junk.o');
  writeFileSync(junk, 'not an ELF file');
  const e = thrown(() => openObject(junk));
  t.match(e.message, /^openObject: open .*junk\.o: /);
  t.match(e.log ?? '', /elf/i);
  t.end();
});

t.test('pinObject, getPinned and closeFd on a program', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const dir = pinDir(t);
  const pin = join(dir, 'prog');
  const fd = obj.progFd('xdp_count');
  pinObject(fd, pin);
  t.equal(thrown(() => pinObject(fd, pin)).code, 'EEXIST');

  const again = getPinned(pin);
  t.not(again, fd, 'a new fd');
  t.equal(progInfo(again).id, progInfo(fd).id, 'for the same program');
  closeFd(again);

  t.match(thrown(() => progInfo(obj.mapFd('flows'))).message, /is not a BPF prog \(anon_inode:bpf-map\)/);
  t.match(thrown(() => mapInfo(fd)).message, /is not a BPF map \(anon_inode:bpf-prog\)/);
  t.equal(thrown(() => getPinned(join(dir, 'missing'))).code, 'ENOENT');
  t.equal(thrown(() => closeFd(-5)).code, 'EBADF');
  t.end();
});
