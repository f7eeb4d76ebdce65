// A queue worker: a thread that owns the AF_XDP sockets of one RX queue index
// (one per interface), drains them in batches and hands each batch to the main
// thread in one transferred buffer; it sends what the main thread gives it to
// send. Whatever it cannot hand over or send is dropped and counted, never
// passed on unfiltered: XDP only ever redirects to a socket, never past it.
import { parentPort, workerData } from 'node:worker_threads';
import { Xsk } from '../dataplane/native.js';
import { RX_META } from '../dataplane/layout.js';
import { stripRxMeta } from '../slowpath/rx-meta.js';
import { FrameReader } from '../slowpath/frame.js';
import {
  BACKLOG_MAX, type RxBatch, SYNC_BACKLOG, SYNC_REPLY, type TxItem, type WorkerCommand, type WorkerData, type WorkerReply,
  type WorkerRequest, type WorkerSocketCounters,
} from './protocol.js';

const BATCH = 64;
const META = RX_META.size;

interface OwnedSocket {
  id: number;
  xsk: Xsk;
  descs: Uint32Array;
  counters: WorkerSocketCounters;
  /** Only with the fault hook: reads frames' ports. */
  reader: FrameReader | null;
}

const data = workerData as WorkerData;
const shared = new Int32Array(data.shared);
const sockets = new Map<number, OwnedSocket>();

function answer(reply: WorkerReply): void {
  data.reply.postMessage(reply);
  Atomics.store(shared, SYNC_REPLY, 1);
  Atomics.notify(shared, SYNC_REPLY);
}

function open(req: Extract<WorkerRequest, { kind: 'open' }>): void {
  try {
    const xsk = new Xsk({ ifindex: req.ifindex, ifname: req.ifname, queue: req.queue, ...(req.frameSize === undefined ? {} : { frameSize: req.frameSize }) });
    sockets.set(req.id, {
      id: req.id, xsk, descs: new Uint32Array(BATCH * 2), reader: data.faultPort !== 0 ? new FrameReader(xsk.umem) : null,
      counters: {
        id: req.id, rxDropped: 0, rxInvalidDescs: 0, rxTooBig: 0, rxRingFull: 0, fillRingEmptyDescs: 0,
        rxFrames: 0, rxBatches: 0, backlogDrops: 0, txFrames: 0, txRingFull: 0,
      },
    });
    answer({ kind: 'opened', id: req.id, fd: xsk.fd, maxPacket: xsk.maxPacket, mode: xsk.mode });
  } catch (err) {
    answer({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

function counters(s: OwnedSocket): WorkerSocketCounters {
  try {
    const x = s.xsk.stats();
    Object.assign(s.counters, {
      rxDropped: x.rxDropped, rxInvalidDescs: x.rxInvalidDescs, rxTooBig: x.rxTooBig, rxRingFull: x.rxRingFull,
      fillRingEmptyDescs: x.fillRingEmptyDescs,
    });
  } catch {
    // A closed socket keeps its last figures.
  }
  return { ...s.counters };
}

/** Test hook (XDPFW_FAULT_WORKER_EXIT_PORT): a frame to this port ends the worker like a crash would. */
function checkFault(s: OwnedSocket, n: number): void {
  const reader = s.reader!;
  for (let i = 0; i < n; i++) {
    if (reader.read(s.descs[2 * i]!, s.descs[2 * i + 1]!) && reader.facts.destinationPort === data.faultPort) {
      setImmediate(() => {
        throw new Error(`queue ${data.queue} worker: fault injected by a frame to port ${data.faultPort}`);
      });
    }
  }
}

/** Hands everything queued on the socket to the main thread, a batch per message. */
function drain(s: OwnedSocket): void {
  const c = s.counters;
  for (;;) {
    let n = 0;
    try {
      n = s.xsk.rx(s.descs);
    } catch {
      return; // the socket failed or closed; its statistics tell
    }
    if (n === 0) return;
    stripRxMeta(s.descs, n);
    if (s.reader) checkFault(s, n);
    c.rxFrames += n;
    if (Atomics.load(shared, SYNC_BACKLOG) >= BACKLOG_MAX) {
      c.backlogDrops += n;
    } else {
      post(s, n);
    }
    if (n < BATCH) return;
  }
}

function post(s: OwnedSocket, n: number): void {
  const descs = s.descs;
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += META + descs[2 * i + 1]!;
  const frames = new ArrayBuffer(bytes);
  const into = new Uint8Array(frames);
  const umem = new Uint8Array(s.xsk.umem);
  const out = new Uint32Array(2 * n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const addr = descs[2 * i]!;
    const length = descs[2 * i + 1]!;
    into.set(umem.subarray(addr - META, addr + length), at);
    out[2 * i] = at + META;
    out[2 * i + 1] = length;
    at += META + length;
  }
  const batch: RxBatch = { kind: 'rx', id: s.id, frames, descs: out, count: n };
  Atomics.add(shared, SYNC_BACKLOG, 1);
  try {
    parentPort!.postMessage(batch, [frames, out.buffer]);
    s.counters.rxBatches++;
  } catch {
    Atomics.sub(shared, SYNC_BACKLOG, 1);
    s.counters.backlogDrops += n;
  }
}

function transmit(items: TxItem[]): void {
  for (const item of items) {
    const s = sockets.get(item.id);
    if (!s) continue;
    let sent = 0;
    try {
      sent = s.xsk.tx(new Uint8Array(item.frames), item.lengths, item.count);
    } catch {
      sent = 0;
    }
    s.counters.txFrames += sent;
    s.counters.txRingFull += item.count - sent;
  }
}

function close(id: number): void {
  const s = sockets.get(id);
  sockets.delete(id);
  try {
    s?.xsk.close();
  } finally {
    answer({ kind: 'closed' });
  }
}

/** Frees every socket (unbinding its queue), so that a worker started again can bind it anew. */
function closeAll(): void {
  for (const s of sockets.values()) {
    try {
      s.xsk.close();
    } catch {
      // Closing the others matters more.
    }
  }
  sockets.clear();
}

// An error nothing caught ends this worker: its sockets first, then the thread (the main
// thread closes the queue in XDP and starts a new worker).
process.on('uncaughtException', (err) => {
  closeAll();
  try {
    parentPort!.postMessage({ kind: 'fatal', message: err instanceof Error ? err.message : String(err) });
  } finally {
    process.exit(1);
  }
});
process.on('exit', closeAll);

parentPort!.on('message', (msg: WorkerRequest | WorkerCommand) => {
  switch (msg.kind) {
    case 'open': return open(msg);
    case 'close': return close(msg.id);
    case 'stats': return answer({ kind: 'stats', sockets: [...sockets.values()].map(counters) });
    case 'start': {
      const s = sockets.get(msg.id);
      s?.xsk.poll(() => drain(s));
      return;
    }
    case 'tx': return transmit(msg.items);
  }
});
