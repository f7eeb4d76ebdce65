// Map access through the native addon against real kernel maps.
import t from 'tap';
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_NOEXIST,
  NativeError,
  mapDelete,
  mapDeleteBatch,
  mapDump,
  mapInfo,
  mapLookup,
  mapUpdate,
  mapUpdateBatch,
  numPossibleCpus,
} from '../../lib/dataplane/native.js';
import { FLOW_KEY_SIZE, FLOW_VAL_SIZE, compileTestObject, openTestObject, u32 } from './fixture.js';

function flowKey(i: number): Buffer {
  const k = Buffer.alloc(FLOW_KEY_SIZE);
  k.writeUInt32BE(0xc0000200 + (i & 0xff), 0); // saddr
  k.writeUInt32BE(0xc6336400 + (i >>> 8), 4); // daddr
  k.writeUInt16BE((1024 + i) & 0xffff, 8); // sport
  k.writeUInt16BE(443, 10); // dport
  k.writeUInt8(6, 12); // proto
  return k;
}

function flowVal(i: number): Buffer {
  const v = Buffer.alloc(FLOW_VAL_SIZE);
  v.writeBigUInt64LE(BigInt(i) * 3n, 0);
  v.writeBigUInt64LE(BigInt(i) * 1500n, 8);
  v.writeUInt32LE(0xabcd0000 + i, 28);
  return v;
}

/** code of a thrown NativeError (fails the test otherwise) */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof NativeError) return e.code;
    throw e;
  }
  return 'no error';
}

t.test('hash map: lookup, update flags, delete', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const fd = obj.mapFd('flows');
  const key = flowKey(1);
  const value = Buffer.alloc(FLOW_VAL_SIZE);

  t.equal(mapLookup(fd, key, value), false, 'absent key');
  mapUpdate(fd, key, flowVal(1), BPF_NOEXIST);
  t.equal(mapLookup(fd, key, value), true);
  t.same(value, flowVal(1), 'value filled in place');

  t.equal(codeOf(() => mapUpdate(fd, key, flowVal(2), BPF_NOEXIST)), 'EEXIST');
  t.equal(codeOf(() => mapUpdate(fd, flowKey(2), flowVal(2), BPF_EXIST)), 'ENOENT');
  mapUpdate(fd, key, flowVal(7), BPF_EXIST);
  mapLookup(fd, key, value);
  t.same(value, flowVal(7), 'BPF_EXIST replaced the value');

  t.equal(mapDelete(fd, key), true);
  t.equal(mapDelete(fd, key), false, 'second delete reports absence');
  t.equal(mapLookup(fd, key, value), false);
  t.end();
});

t.test('buffers are checked against the real key/value sizes', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const fd = obj.mapFd('flows');
  try {
    mapLookup(fd, Buffer.alloc(FLOW_KEY_SIZE - 1), Buffer.alloc(FLOW_VAL_SIZE));
    t.fail('short key accepted');
  } catch (e) {
    t.ok(e instanceof NativeError);
    if (e instanceof NativeError) {
      t.equal(e.code, 'EINVAL');
      t.equal(e.errno, 22);
      t.match(e.message, /^mapLookup: Invalid argument \(key: 15 bytes given, need 16\)/);
    }
  }
  t.equal(codeOf(() => mapLookup(fd, flowKey(1), Buffer.alloc(FLOW_VAL_SIZE - 1))), 'EINVAL');
  t.equal(codeOf(() => mapUpdate(fd, flowKey(1), Buffer.alloc(4), BPF_ANY)), 'EINVAL');
  t.equal(codeOf(() => mapDump(fd, FLOW_KEY_SIZE, FLOW_VAL_SIZE + 1)), 'EINVAL');
  t.equal(codeOf(() => mapUpdateBatch(fd, Buffer.alloc(FLOW_KEY_SIZE), Buffer.alloc(64), 2, BPF_ANY)), 'EINVAL');
  t.equal(codeOf(() => mapLookup(obj.progFd('xdp_main'), Buffer.alloc(4), Buffer.alloc(4))), 'EINVAL', 'prog fd');
  t.equal(codeOf(() => mapLookup(0, Buffer.alloc(4), Buffer.alloc(4))), 'EINVAL', 'stdin is no map');
  t.equal(codeOf(() => mapLookup(-1, Buffer.alloc(4), Buffer.alloc(4))), 'EBADF');
  t.equal(codeOf(() => mapLookup(fd, 'key' as unknown as Uint8Array, Buffer.alloc(4))), 'EINVAL', 'non-binary key');
  t.end();
});

t.test('per-CPU array values span all possible CPUs', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const fd = obj.mapFd('counters');
  const cpus = numPossibleCpus();
  t.ok(cpus >= 1);
  const value = Buffer.alloc(8 * cpus);
  for (let c = 0; c < cpus; c++) value.writeBigUInt64LE(BigInt(100 + c), 8 * c);
  mapUpdate(fd, u32(3), value, BPF_ANY);

  const back = Buffer.alloc(8 * cpus);
  t.equal(mapLookup(fd, u32(3), back), true);
  t.same(back, value, 'one slot per CPU');
  if (cpus > 1) {
    t.equal(codeOf(() => mapLookup(fd, u32(3), Buffer.alloc(8))), 'EINVAL', 'single-CPU buffer refused');
  }

  const dump = mapDump(fd, 4, 8 * cpus);
  t.equal(dump.count, 4, 'arrays dump every index');
  t.equal(dump.keys.length, 16);
  t.equal(dump.values.length, 4 * 8 * cpus);
  t.same(dump.values.subarray(3 * 8 * cpus), value);
  t.equal(mapLookup(fd, u32(4), back), false, 'out-of-range array index is absent');
  t.end();
});

t.test('batch update, dump across several batches, batch delete', (t) => {
  // max_entries above the dump chunk (4096) so the batch cursor is exercised.
  const obj = openTestObject(t, compileTestObject(t, ['FLOWS_MAX=8192']));
  const fd = obj.mapFd('flows');
  const info = mapInfo(fd);
  t.equal(info.maxEntries, 8192);
  t.equal(info.keySize, FLOW_KEY_SIZE);
  t.equal(info.valueSize, FLOW_VAL_SIZE);
  t.equal(info.name, 'flows');

  const empty = mapDump(fd, FLOW_KEY_SIZE, FLOW_VAL_SIZE);
  t.equal(empty.count, 0);
  t.equal(empty.keys.length, 0);

  const n = 5000;
  const keys = Buffer.concat(Array.from({ length: n }, (_, i) => flowKey(i)));
  const values = Buffer.concat(Array.from({ length: n }, (_, i) => flowVal(i)));
  t.equal(
    codeOf(() => mapUpdateBatch(fd, keys, values, n, BPF_NOEXIST)),
    'EINVAL',
    'the kernel takes no NOEXIST/EXIST flags for batches',
  );
  t.equal(mapDump(fd, FLOW_KEY_SIZE, FLOW_VAL_SIZE).count, 0, 'and nothing was inserted');
  t.equal(mapUpdateBatch(fd, keys, values, n, BPF_ANY), n);

  const dump = mapDump(fd, FLOW_KEY_SIZE, FLOW_VAL_SIZE);
  t.equal(dump.count, n, 'every entry dumped exactly once');
  const seen = new Map<string, string>();
  for (let i = 0; i < dump.count; i++) {
    const k = dump.keys.subarray(i * FLOW_KEY_SIZE, (i + 1) * FLOW_KEY_SIZE).toString('hex');
    seen.set(k, dump.values.subarray(i * FLOW_VAL_SIZE, (i + 1) * FLOW_VAL_SIZE).toString('hex'));
  }
  t.equal(seen.size, n, 'no duplicates');
  let mismatches = 0;
  for (let i = 0; i < n; i++) {
    if (seen.get(flowKey(i).toString('hex')) !== flowVal(i).toString('hex')) mismatches++;
  }
  t.equal(mismatches, 0, 'keys and values stay paired');

  // Delete 1000 present keys with 3 absent ones mixed in: absent keys are skipped.
  const del = Buffer.concat([
    flowKey(100_000),
    ...Array.from({ length: 500 }, (_, i) => flowKey(i)),
    flowKey(100_001),
    ...Array.from({ length: 500 }, (_, i) => flowKey(500 + i)),
    flowKey(100_002),
  ]);
  t.equal(mapDeleteBatch(fd, del, 1003), 1000);
  t.equal(mapDump(fd, FLOW_KEY_SIZE, FLOW_VAL_SIZE).count, n - 1000);
  t.equal(mapLookup(fd, flowKey(10), Buffer.alloc(FLOW_VAL_SIZE)), false);
  t.equal(mapLookup(fd, flowKey(1000), Buffer.alloc(FLOW_VAL_SIZE)), true);

  // Overfill: the batch stops at max_entries and reports how far it got;
  // retrying the remainder surfaces the error.
  const more = 8000;
  const moreKeys = Buffer.concat(Array.from({ length: more }, (_, i) => flowKey(20_000 + i)));
  const moreValues = Buffer.concat(Array.from({ length: more }, (_, i) => flowVal(i)));
  const done = mapUpdateBatch(fd, moreKeys, moreValues, more, BPF_ANY);
  t.ok(done > 0 && done < more, `partial batch (${done} of ${more})`);
  t.equal(mapDump(fd, FLOW_KEY_SIZE, FLOW_VAL_SIZE).count, n - 1000 + done);
  t.equal(
    codeOf(() =>
      mapUpdateBatch(
        fd,
        moreKeys.subarray(done * FLOW_KEY_SIZE),
        moreValues.subarray(done * FLOW_VAL_SIZE),
        more - done,
        BPF_ANY,
      ),
    ),
    'E2BIG',
    'map full',
  );
  t.end();
});

t.test('dump falls back to key iteration for maps without batch ops (LPM trie)', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const fd = obj.mapFd('prefixes');
  const prefixes: Array<[number, number]> = [
    [8, 0x0a000000],
    [16, 0xc0a80000],
    [24, 0xc0000200],
    [32, 0xc6336401],
  ];
  for (const [len, addr] of prefixes) {
    const key = Buffer.alloc(8);
    key.writeUInt32LE(len, 0);
    key.writeUInt32BE(addr, 4);
    mapUpdate(fd, key, u32(len * 10), BPF_ANY);
  }
  const dump = mapDump(fd, 8, 4);
  t.equal(dump.count, prefixes.length);
  const got = new Set<string>();
  for (let i = 0; i < dump.count; i++) {
    const len = dump.keys.readUInt32LE(i * 8);
    got.add(`${len}/${dump.keys.readUInt32BE(i * 8 + 4).toString(16)}=${dump.values.readUInt32LE(i * 4)}`);
  }
  t.same([...got].sort(), prefixes.map(([l, a]) => `${l}/${a.toString(16)}=${l * 10}`).sort());
  t.end();
});
