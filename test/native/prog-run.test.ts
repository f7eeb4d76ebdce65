// BPF_PROG_TEST_RUN (plain mode) and ring buffer delivery of the events the
// program emits while running.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import {
  BPF_ANY,
  NativeError,
  RingBuffer,
  mapUpdate,
  monotonicNs,
  progTestRun,
} from '../../lib/dataplane/native.js';
import {
  CNT_BYTES,
  CNT_PACKETS,
  EVENT_SIZE,
  MARK_ETHERTYPE,
  MODE_DROP,
  MODE_PASS,
  MODE_TX_SWAP,
  XDP_DROP,
  XDP_PASS,
  XDP_TX,
  compileTestObject,
  ethFrame,
  openTestObject,
  perCpuSum,
  u32,
} from './fixture.js';

const DST = Buffer.from([0x02, 0, 0, 0, 0, 0x0d]);
const SRC = Buffer.from([0x02, 0, 0, 0, 0, 0x05]);

function frame(fill: number, len = 64): Buffer {
  return ethFrame(DST, SRC, MARK_ETHERTYPE, Buffer.alloc(len - 14, fill));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof NativeError) return e.code;
    throw e;
  }
  return 'no error';
}

t.test('plain runs return the verdict and the rewritten packet', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const prog = obj.progFd('xdp_main');
  const config = obj.mapFd('config');
  const setMode = (m: number): void => mapUpdate(config, u32(0), u32(m), BPF_ANY);
  const pkt = frame(0x42);

  setMode(MODE_PASS);
  const pass = progTestRun(prog, { data: pkt });
  t.equal(pass.retval, XDP_PASS);
  t.same(pass.dataOut, pkt, 'unchanged packet');
  t.type(pass.duration, 'number');

  setMode(MODE_DROP);
  t.equal(progTestRun(prog, { data: pkt }).retval, XDP_DROP);

  setMode(MODE_TX_SWAP);
  const tx = progTestRun(prog, { data: pkt });
  t.equal(tx.retval, XDP_TX);
  t.same(tx.dataOut?.subarray(0, 6), SRC, 'destination MAC is the old source');
  t.same(tx.dataOut?.subarray(6, 12), DST, 'source MAC is the old destination');
  t.same(tx.dataOut?.subarray(12), pkt.subarray(12), 'rest untouched');
  t.same(pkt.subarray(0, 6), DST, 'the input buffer itself is not modified');

  const before = perCpuSum(obj.mapFd('counters'), CNT_PACKETS);
  const bytesBefore = perCpuSum(obj.mapFd('counters'), CNT_BYTES);
  progTestRun(prog, { data: pkt, repeat: 50 });
  t.equal(perCpuSum(obj.mapFd('counters'), CNT_PACKETS) - before, 50n, 'repeat runs the program N times');
  t.equal(perCpuSum(obj.mapFd('counters'), CNT_BYTES) - bytesBefore, 50n * BigInt(pkt.length));
  t.end();
});

t.test('data is read in place from any view, bounds enforced', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const prog = obj.progFd('xdp_main');
  const pkt = frame(0x17, 100);
  const backing = new ArrayBuffer(4096);
  const view = new Uint8Array(backing, 1000, pkt.length);
  view.set(pkt);
  t.same(progTestRun(prog, { data: view }).dataOut, pkt, 'view offset honoured');

  t.equal(codeOf(() => progTestRun(prog, { data: pkt.subarray(0, 13) })), 'EINVAL', 'shorter than Ethernet');
  t.equal(codeOf(() => progTestRun(prog, { data: pkt, dataOutSize: 20 })), 'ENOSPC', 'output too small');
  t.equal(codeOf(() => progTestRun(prog, { data: pkt, batchSize: 8 })), 'EINVAL', 'batchSize needs live');
  t.equal(codeOf(() => progTestRun(prog, { data: pkt, rxQueue: 1 })), 'EINVAL', 'rxQueue needs ifindex');
  t.equal(codeOf(() => progTestRun(prog, { data: pkt, ifindex: 0x7ffffff0 })), 'ENODEV', 'unknown ifindex');
  t.equal(codeOf(() => progTestRun(obj.mapFd('flows'), { data: pkt })), 'EINVAL', 'not a program');
  t.end();
});

t.test('a range of a larger buffer in, the output into a caller buffer: no view, no copy out', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const prog = obj.progFd('xdp_main');
  mapUpdate(obj.mapFd('config'), u32(0), u32(MODE_TX_SWAP), BPF_ANY);
  const pkt = frame(0x23, 80);
  const umem = Buffer.alloc(4096, 0xee);
  pkt.copy(umem, 2048);
  const into = Buffer.alloc(256, 0xcc);
  const r = progTestRun(prog, { data: umem, offset: 2048, length: pkt.length, into });
  t.equal(r.retval, XDP_TX);
  t.equal(r.dataOut, null, 'nothing allocated for the output');
  t.equal(r.dataOutLength, pkt.length);
  t.same(into.subarray(0, 6), SRC, 'the program saw the frame at the offset and swapped its MACs');
  t.same(into.subarray(12, pkt.length), pkt.subarray(12));
  t.equal(into[pkt.length], 0xcc, 'nothing written past the output');
  t.equal(codeOf(() => progTestRun(prog, { data: umem, offset: 4000, length: 200 })), 'EINVAL', 'range beyond the buffer');
  t.equal(codeOf(() => progTestRun(prog, { data: umem, offset: 5000 })), 'EINVAL', 'offset beyond the buffer');
  t.equal(codeOf(() => progTestRun(prog, { data: pkt, into: Buffer.alloc(20) })), 'ENOSPC', 'into too small');
  t.equal(codeOf(() => progTestRun(prog, { data: pkt, into, live: true })), 'EINVAL', 'into needs a plain run');
  t.end();
});

t.test('ring buffer events emitted by the program are consumed', (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const prog = obj.progFd('xdp_main');
  const rb = new RingBuffer(obj.mapFd('events'), () => t.fail('poll must not see consumed records'));
  t.teardown(() => rb.close());

  const t0 = monotonicNs();
  for (let i = 0; i < 3; i++) progTestRun(prog, { data: frame(i, 60 + i) });
  const t1 = monotonicNs();

  const records = rb.consume();
  t.equal(records.length, 3);
  records.forEach((r, i) => {
    t.equal(r.length, EVENT_SIZE);
    const ts = r.readBigUInt64LE(0);
    t.ok(ts >= t0 && ts <= t1, 'bpf_ktime_get_ns() is on the monotonicNs() clock');
    t.equal(r.readUInt32LE(16), 60 + i, 'packet length');
    t.same(r.subarray(20, 24), DST.subarray(0, 4), 'first packet bytes');
  });
  t.same(rb.consume(), [], 'drained');
  rb.close();
  rb.close();
  t.equal(codeOf(() => rb.consume()), 'EBADF');
  t.end();
});

t.test('ring buffer poll delivers batches to the callback', async (t) => {
  const obj = openTestObject(t, compileTestObject(t));
  const prog = obj.progFd('xdp_main');
  const lengths: number[] = [];
  let calls = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const rb = new RingBuffer(obj.mapFd('events'), (records, err) => {
    t.equal(err, undefined);
    calls++;
    for (const r of records) lengths.push(r.readUInt32LE(16));
    if (lengths.length >= 5) done();
  });
  t.teardown(() => rb.close());

  for (let i = 0; i < 5; i++) progTestRun(prog, { data: frame(i, 70 + i) });
  const timeout = setTimeout(done, 5000);
  await all;
  clearTimeout(timeout);
  rb.close();
  t.same(lengths, [70, 71, 72, 73, 74], 'every record, in order');
  t.ok(calls >= 1 && calls <= 5, `batched into ${calls} callback(s)`);
});

t.test('an exception thrown by a poll callback is an uncaught exception', (t) => {
  // In a child process: the event loop must survive into process
  // 'uncaughtException', and closing the ring buffer must let it exit.
  const objPath = compileTestObject(t);
  const nativeUrl = new URL('../../lib/dataplane/native.js', import.meta.url).href;
  const script = `
    import { openObject, progTestRun, RingBuffer } from ${JSON.stringify(nativeUrl)};
    const obj = openObject(${JSON.stringify(objPath)});
    let rb;
    process.on('uncaughtException', (e) => {
      console.log('caught:' + e.message);
      rb.close();
      obj.close();
    });
    rb = new RingBuffer(obj.mapFd('events'), (records) => {
      throw new Error('boom after ' + records.length);
    });
    progTestRun(obj.progFd('xdp_main'), { data: Buffer.alloc(64, 1) });
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.equal(out.trim(), 'caught:boom after 1');
  t.end();
});
