// BTF layout queries against a compiled object (what lib/ uses to check its
// TypeScript mirrors of the C structs).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { btfEnum, btfStruct } from '../../lib/dataplane/native.js';
import { EVENT_SIZE, FLOW_KEY_SIZE, FLOW_VAL_SIZE, compileTestObject, tmpDir, thrown } from './fixture.js';

t.test('struct layouts: offsets, sizes, arrays', (t) => {
  const obj = compileTestObject(t);
  const key = btfStruct(obj, 'flow_key');
  t.equal(key.size, FLOW_KEY_SIZE);
  t.same(
    key.members.map((m) => [m.name, m.offset, m.size, m.bitfield]),
    [
      ['saddr', 0, 4, false],
      ['daddr', 4, 4, false],
      ['sport', 8, 2, false],
      ['dport', 10, 2, false],
      ['proto', 12, 1, false],
      ['pad', 13, 3, false],
    ],
  );
  const ev = btfStruct(obj, 'event');
  t.equal(ev.size, EVENT_SIZE);
  t.same(ev.members.find((m) => m.name === 'head'), {
    name: 'head',
    offset: 20,
    size: 4,
    bitfield: false,
    bitOffset: 160,
    bitSize: 0,
  });
  t.end();
});

t.test('bitfields are flagged with their bit positions', (t) => {
  const val = btfStruct(compileTestObject(t), 'flow_val');
  t.equal(val.size, FLOW_VAL_SIZE);
  const byName = new Map(val.members.map((m) => [m.name, m]));
  t.match(byName.get('state'), { offset: 16, bitfield: true, bitOffset: 128, bitSize: 4 });
  t.match(byName.get('flags'), { offset: 16, bitfield: true, bitOffset: 132, bitSize: 12 });
  t.match(byName.get('zone'), { offset: 18, bitfield: true, bitOffset: 144, bitSize: 16 });
  t.match(byName.get('tag'), { offset: 20, size: 6, bitfield: false });
  t.match(byName.get('tail'), { offset: 26, size: 2, bitfield: false });
  t.end();
});

t.test('enums, including an anonymous enum behind a typedef', (t) => {
  const obj = compileTestObject(t);
  t.same(btfEnum(obj, 'test_mode'), {
    MODE_PASS: 0,
    MODE_DROP: 1,
    MODE_REDIRECT_XSK: 2,
    MODE_TX_SWAP: 3,
  });
  t.same(btfEnum(obj, 'verdict_t'), {
    VERDICT_ALLOW: 10,
    VERDICT_DENY: 20,
    VERDICT_BIG: 0x80000001,
  });
  t.end();
});

t.test('missing types and files are clear errors', (t) => {
  const obj = compileTestObject(t);
  const e = thrown(() => btfStruct(obj, 'no_such_struct'));
  t.equal(e.code, 'ENOENT');
  t.match(e.message, /struct\/union 'no_such_struct' not found in BTF of /);
  t.match(thrown(() => btfEnum(obj, 'flow_key')).message, /enum 'flow_key' not found/);
  t.equal(thrown(() => btfStruct('/nonexistent.o', 'x')).code, 'ENOENT');
  const junk = join(tmpDir(t), 'junk.o');
  writeFileSync(junk, 'junk');
  t.match(thrown(() => btfStruct(junk, 'x')).message, /^btfStruct: .*junk\.o: /);
  t.end();
});
