// The main thread's side of the queue workers: one worker thread per RX queue
// index, owning that queue's AF_XDP socket on every attached interface. Batches
// the workers hand over are judged here by the slow path (which keeps the
// session table, events and metrics); frames it sends go back to the worker
// that owns the socket, in one message per worker and batch.
//
// Fail closed: a worker that dies takes its sockets with it; its queues' XSKMAP
// slots are removed at once (XDP then drops and counts what would go up), and
// the worker is started again with new sockets.
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { Zone } from '../config/types.js';
import { FrameReader } from '../slowpath/frame.js';
import type { QueueSocketStats } from '../slowpath/receiver.js';
import { ONE_BUFFER_MAX_FRAME, type RxQueue, type SlowPath } from '../slowpath/slowpath.js';
import { frameDigest } from '../util/faults.js';
import {
  type RxBatch, SYNC_BACKLOG, type WorkerFatal, SYNC_REPLY, SYNC_SLOTS, type TxItem, type WorkerCommand, type WorkerData, type WorkerReply,
  type WorkerRequest, type WorkerSocketCounters,
} from './protocol.js';

/** How long the main thread waits for a worker to answer (opening a socket includes starting the thread). */
const OPEN_TIMEOUT_MS = 30_000;
const STATS_TIMEOUT_MS = 2_000;
/** Restarts of one worker within RESTART_WINDOW_MS before its queue is left closed. */
const RESTARTS_MAX = 5;
const RESTART_WINDOW_MS = 60_000;
const REOPEN_INTERVAL_MS = 50;
const REOPEN_ATTEMPTS = 200;

/** Counters of one queue worker, as `show counters` and metrics show them. */
export interface QueueWorkerStats {
  queue: number;
  /** The thread's id (0: not running). */
  threadId: number;
  running: boolean;
  /** Times it died (an error or an exit while the daemon ran), and was started again. */
  deaths: number;
  restarts: number;
  /** Frames received, and the batches they came in. */
  rxFrames: number;
  rxBatches: number;
  /** Frames dropped, counted: the main thread had too many batches still to judge. */
  backlogDrops: number;
  /** Frames sent; frames the tx ring had no room for. */
  txFrames: number;
  txRingFull: number;
  /** Frames handed to the worker to send that could not be posted (it had died). */
  txLost: number;
}

export interface SocketRegistration {
  /** Puts the socket fd in the XSKMAP slot of its (interface, queue). */
  register(fd: number): void;
  /** Removes it: XDP drops what would go to the slow path on that queue. */
  unregister(): void;
}

/** Sends frames out of one interface through a worker's socket (the slow path's TxPort). */
class Outbox {
  private buf = Buffer.alloc(64 * 3072);
  private used = 0;
  private readonly lengths: number[] = [];

  add(frame: Uint8Array, length: number): void {
    if (this.used + length > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.used + length));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.buf.set(frame.subarray(0, length), this.used);
    this.used += length;
    this.lengths.push(length);
  }

  get count(): number {
    return this.lengths.length;
  }

  take(id: number): TxItem {
    const frames = new ArrayBuffer(this.used);
    new Uint8Array(frames).set(this.buf.subarray(0, this.used));
    const item: TxItem = { id, frames, lengths: Uint32Array.from(this.lengths), count: this.lengths.length };
    this.used = 0;
    this.lengths.length = 0;
    return item;
  }
}

/** One AF_XDP socket owned by a queue worker, as the daemon sees it. */
export class WorkerSocket {
  fd = -1;
  maxPacket = 0;
  mode = 'copy';
  /** The worker owning it has it open. */
  open = false;
  private started = false;
  private readonly outbox = new Outbox();
  private staged = 0;
  /** The socket's last known figures (kept across a worker's death). */
  counters: WorkerSocketCounters;
  /** Of previous workers' sockets: the figures a restarted socket starts again from. */
  private readonly carried: WorkerSocketCounters;
  readonly rx: RxQueue;
  private slowPath: SlowPath | null = null;

  constructor(
    private readonly owner: QueueWorker,
    readonly id: number,
    readonly ifname: string,
    readonly ifindex: number,
    readonly queue: number,
    zone: Zone | null,
    readonly frameSize: number | undefined,
    readonly registration: SocketRegistration,
  ) {
    this.counters = zeroCounters(id);
    this.carried = zeroCounters(id);
    const empty = new ArrayBuffer(0);
    this.rx = {
      ifindex, queue, zone, reader: new FrameReader(empty), frames: Buffer.from(empty),
      transmit: (frame, length) => this.transmit(frame, length),
    };
  }

  /** Sends a frame out of this interface (by the owning worker, after the batch). */
  transmit(frame: Uint8Array, length: number): boolean {
    if (!this.open) return false;
    this.outbox.add(frame, length);
    this.owner.flushSoon(this);
    return true;
  }

  stage(frame: Uint8Array, length: number): boolean {
    if (!this.transmit(frame, length)) return false;
    this.staged++;
    return true;
  }

  sendStaged(): number {
    const n = this.staged;
    this.staged = 0;
    return n;
  }

  /** Frames waiting to be posted to the worker. */
  takeOutbox(): TxItem | null {
    return this.outbox.count === 0 ? null : this.outbox.take(this.id);
  }

  setZone(zone: Zone | null): void {
    this.rx.zone = zone;
  }

  start(slowPath: SlowPath): void {
    this.slowPath = slowPath;
    this.started = true;
    if (this.open) this.owner.command({ kind: 'start', id: this.id });
  }

  /** After the worker (re)opened it: judged from now on if the daemon runs. */
  opened(fd: number, maxPacket: number, mode: string): void {
    this.fd = fd;
    this.maxPacket = maxPacket;
    this.mode = mode;
    this.open = true;
    this.registration.register(fd);
    if (this.started) this.owner.command({ kind: 'start', id: this.id });
  }

  /** The worker died: the queue is closed in XDP before anything else. */
  lost(): void {
    this.open = false;
    this.staged = 0;
    try {
      this.registration.unregister();
    } catch {
      // The slot may be gone with its interface.
    }
    this.carry(this.counters);
  }

  private carry(last: WorkerSocketCounters): void {
    for (const k of COUNTER_KEYS) this.carried[k] += last[k];
    this.counters = zeroCounters(this.id);
  }

  update(c: WorkerSocketCounters): void {
    this.counters = c;
  }

  /** Judges a batch the worker handed over. Never throws (runs from the event loop). */
  judge(batch: RxBatch): void {
    const slowPath = this.slowPath;
    if (!slowPath) return;
    this.rx.frames = Buffer.from(batch.frames);
    this.rx.reader = new FrameReader(batch.frames);
    try {
      slowPath.handleBatch(this.rx, batch.descs, batch.count);
    } catch (err) {
      slowPath.faults.record('receive', err, () => frameDigest(this.rx.frames, batch.descs[0]!, batch.descs[1]!, this.ifindex, this.queue));
    }
  }

  total(k: (typeof COUNTER_KEYS)[number]): number {
    return this.carried[k] + this.counters[k];
  }

  stats(): QueueSocketStats {
    this.owner.refreshStats();
    return {
      ifname: this.ifname, queue: this.queue, mode: this.mode,
      rxDropped: this.total('rxDropped'), rxInvalidDescs: this.total('rxInvalidDescs') + this.total('rxTooBig'),
      rxRingFull: this.total('rxRingFull'), fillRingEmptyDescs: this.total('fillRingEmptyDescs'),
      txRingFull: this.total('txRingFull'),
    };
  }

  close(): void {
    this.owner.closeSocket(this);
  }
}

const COUNTER_KEYS = [
  'rxDropped', 'rxInvalidDescs', 'rxTooBig', 'rxRingFull', 'fillRingEmptyDescs', 'rxFrames', 'rxBatches', 'backlogDrops', 'txFrames', 'txRingFull',
] as const;

function zeroCounters(id: number): WorkerSocketCounters {
  return {
    id, rxDropped: 0, rxInvalidDescs: 0, rxTooBig: 0, rxRingFull: 0, fillRingEmptyDescs: 0,
    rxFrames: 0, rxBatches: 0, backlogDrops: 0, txFrames: 0, txRingFull: 0,
  };
}

/** The thread serving one RX queue index. */
export class QueueWorker {
  private worker: Worker | null = null;
  private replies: MessagePort | null = null;
  private readonly shared = new Int32Array(new SharedArrayBuffer(SYNC_SLOTS * 4));
  readonly sockets = new Map<number, WorkerSocket>();
  private readonly dirty = new Set<WorkerSocket>();
  private flushQueued = false;
  private deathTimes: number[] = [];
  private closing = false;
  deaths = 0;
  restarts = 0;
  txLost = 0;
  private statsAt = 0;

  constructor(
    readonly queue: number,
    private readonly faultPort: number,
    private readonly log: (line: string) => void,
    /** Told which worker's batch is being judged (null: none). */
    private readonly judging: (w: QueueWorker | null, frames: number, firstLength: number) => void,
  ) {}

  /** This worker's socket on an interface: where a batch it handed over sends its frames out. */
  socketFor(ifindex: number): WorkerSocket | undefined {
    for (const s of this.sockets.values()) if (s.ifindex === ifindex && s.open) return s;
    return undefined;
  }

  get running(): boolean {
    return this.worker !== null;
  }

  private spawn(): Worker {
    const { port1, port2 } = new MessageChannel();
    const data: WorkerData = { queue: this.queue, shared: this.shared.buffer as SharedArrayBuffer, reply: port2, faultPort: this.faultPort };
    Atomics.store(this.shared, SYNC_BACKLOG, 0);
    const worker = new Worker(new URL('./queue-worker.js', import.meta.url), { workerData: data, transferList: [port2], name: `xdpfw-queue-${this.queue}` });
    worker.unref();
    worker.on('message', (msg: RxBatch | WorkerFatal) => {
      if (msg.kind === 'rx') this.received(msg);
      else this.log(`xdpfw: queue ${this.queue} worker failed: ${msg.message}`);
    });
    worker.on('error', (err) => this.log(`xdpfw: queue ${this.queue} worker failed: ${err.message}`));
    worker.on('exit', (code) => this.exited(worker, code));
    this.worker = worker;
    this.replies = port1;
    return worker;
  }

  /** Sends a request and waits for its answer (the main thread blocks; requests are rare and short). */
  private request(req: WorkerRequest, timeoutMs: number): WorkerReply | null {
    const worker = this.worker;
    if (!worker || !this.replies) return null;
    // An answer to an earlier request that timed out must not pass for this one's.
    while (receiveMessageOnPort(this.replies)) { /* dropped */ }
    Atomics.store(this.shared, SYNC_REPLY, 0);
    worker.postMessage(req);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = receiveMessageOnPort(this.replies);
      if (got) return got.message as WorkerReply;
      const left = deadline - Date.now();
      if (left <= 0 || this.worker !== worker) return null;
      Atomics.wait(this.shared, SYNC_REPLY, 0, Math.min(left, 50));
      Atomics.store(this.shared, SYNC_REPLY, 0);
    }
  }

  command(cmd: WorkerCommand): void {
    this.worker?.postMessage(cmd);
  }

  /** Opens a socket in this worker (starting the thread first if needed); throws if it cannot. */
  add(socket: WorkerSocket): void {
    this.worker ??= this.spawn();
    this.openIn(socket);
    this.sockets.set(socket.id, socket);
  }

  private openIn(socket: WorkerSocket): void {
    const reply = this.request({ kind: 'open', id: socket.id, ifname: socket.ifname, ifindex: socket.ifindex, queue: socket.queue,
      ...(socket.frameSize === undefined ? {} : { frameSize: socket.frameSize }) }, OPEN_TIMEOUT_MS);
    if (!reply) throw new Error(`queue ${this.queue} worker did not open a socket on ${socket.ifname}`);
    if (reply.kind === 'failed') throw new Error(reply.message);
    if (reply.kind !== 'opened') throw new Error(`queue ${this.queue} worker answered ${reply.kind} to open`);
    socket.opened(reply.fd, reply.maxPacket, reply.mode);
  }

  closeSocket(socket: WorkerSocket): void {
    this.sockets.delete(socket.id);
    this.dirty.delete(socket);
    if (socket.open) {
      this.request({ kind: 'close', id: socket.id }, STATS_TIMEOUT_MS);
      socket.open = false;
    }
    if (this.sockets.size === 0) this.stop();
  }

  flushSoon(socket: WorkerSocket): void {
    this.dirty.add(socket);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Posts every frame the slow path sent in this turn: one message for the worker. */
  flush(): void {
    this.flushQueued = false;
    const items: TxItem[] = [];
    for (const s of this.dirty) {
      const item = s.takeOutbox();
      if (item) items.push(item);
    }
    this.dirty.clear();
    if (items.length === 0) return;
    const worker = this.worker;
    try {
      if (!worker) throw new Error('no worker');
      worker.postMessage({ kind: 'tx', items } satisfies WorkerCommand, items.map((i) => i.frames));
    } catch {
      for (const i of items) this.txLost += i.count;
    }
  }

  private received(batch: RxBatch): void {
    Atomics.sub(this.shared, SYNC_BACKLOG, 1);
    this.judging(this, batch.count, batch.descs[1] ?? 0);
    try {
      this.sockets.get(batch.id)?.judge(batch);
    } finally {
      this.judging(null, 0, 0);
    }
  }

  /** At most a few times a second: each asks the worker (a short wait of the main thread). */
  refreshStats(): void {
    const now = Date.now();
    if (now - this.statsAt < 100) return;
    this.statsAt = now;
    const reply = this.request({ kind: 'stats' }, STATS_TIMEOUT_MS);
    if (reply?.kind !== 'stats') return;
    for (const c of reply.sockets) this.sockets.get(c.id)?.update(c);
  }

  stats(): QueueWorkerStats {
    this.refreshStats();
    const sum = (k: (typeof COUNTER_KEYS)[number]): number => [...this.sockets.values()].reduce((n, s) => n + s.total(k), 0);
    return {
      queue: this.queue, threadId: this.worker?.threadId ?? 0, running: this.running, deaths: this.deaths, restarts: this.restarts,
      rxFrames: sum('rxFrames'), rxBatches: sum('rxBatches'), backlogDrops: sum('backlogDrops'),
      txFrames: sum('txFrames'), txRingFull: sum('txRingFull'), txLost: this.txLost,
    };
  }

  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.replies?.close();
    this.replies = null;
    // Fail closed first: nothing of this queue goes up to a socket nobody reads.
    for (const s of this.sockets.values()) s.lost();
    if (this.closing) return;
    this.deaths++;
    const now = Date.now();
    this.deathTimes = this.deathTimes.filter((t) => now - t < RESTART_WINDOW_MS);
    this.deathTimes.push(now);
    if (this.deathTimes.length > RESTARTS_MAX) {
      this.log(`xdpfw: queue ${this.queue} worker died ${this.deathTimes.length} times in a minute (exit ${code}); its queue stays closed (XDP drops its new flows)`);
      return;
    }
    this.log(`xdpfw: queue ${this.queue} worker ended (exit ${code}); its queue is closed until it runs again; starting it again`);
    setImmediate(() => this.restart());
  }

  private restart(): void {
    if (this.closing || this.worker) return;
    this.spawn();
    this.reopen(0);
  }

  /**
   * Opens the sockets the dead worker had. The kernel frees a closed socket's queue a moment
   * later (EBUSY until then): tried again every REOPEN_INTERVAL_MS for a while.
   */
  private reopen(attempt: number): void {
    const worker = this.worker;
    if (this.closing || !worker) return;
    try {
      for (const s of this.sockets.values()) if (!s.open) this.openIn(s);
      this.restarts++;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/EBUSY/.test(message) && attempt < REOPEN_ATTEMPTS) {
        setTimeout(() => this.reopen(attempt + 1), REOPEN_INTERVAL_MS);
        return;
      }
      this.log(`xdpfw: queue ${this.queue} worker could not start again: ${message}`);
      // Its exit counts as another death: tried again until the limit.
      void worker.terminate();
    }
  }

  stop(): void {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    for (const s of this.sockets.values()) s.lost();
    this.worker = null;
    this.replies?.close();
    void worker.terminate();
  }
}

/** The daemon's queue workers, one per RX queue index. */
export class QueueWorkers {
  private readonly workers = new Map<number, QueueWorker>();
  private nextId = 1;
  private readonly faultPort: number;
  /** The worker whose batch the slow path is judging. */
  private current: QueueWorker | null = null;
  /** Frames in the batch being judged, and the length of the first (sent on in one buffer up to ONE_BUFFER_MAX_FRAME). */
  private judgingCount = 0;
  private loneLength = 0;

  constructor(private readonly log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)) {
    this.faultPort = Number(process.env.XDPFW_FAULT_WORKER_EXIT_PORT ?? 0) || 0;
  }

  /** Opens the socket of (interface, queue) in that queue's worker and registers it; throws if it cannot. */
  open(ifname: string, ifindex: number, queue: number, zone: Zone | null, frameSize: number | undefined, registration: SocketRegistration): WorkerSocket {
    let worker = this.workers.get(queue);
    if (!worker || (!worker.running && worker.sockets.size === 0)) {
      worker = new QueueWorker(queue, this.faultPort, this.log, (w, frames, firstLength) => {
        this.current = w;
        this.judgingCount = frames;
        this.loneLength = firstLength;
      });
      this.workers.set(queue, worker);
    }
    const socket = new WorkerSocket(worker, this.nextId++, ifname, ifindex, queue, zone, frameSize, registration);
    worker.add(socket);
    return socket;
  }

  /**
   * The socket a frame leaves an interface by: the judging worker's own (its thread sends it),
   * else any open one of that interface; undefined: no worker has a socket there. null: a lone
   * frame, sent on by the slow path itself (the kernel's socket costs a few µs; handing it back to the
   * worker costs a thread wake-up, tens of µs, on a connect's critical path).
   */
  egressPort(ifindex: number): WorkerSocket | null | undefined {
    if (this.current && this.judgingCount === 1 && this.loneLength <= ONE_BUFFER_MAX_FRAME && this.ownsInterface(ifindex)) return null;
    const own = this.current?.socketFor(ifindex);
    if (own) return own;
    for (const w of this.workers.values()) {
      const s = w.socketFor(ifindex);
      if (s) return s;
    }
    return undefined;
  }

  private ownsInterface(ifindex: number): boolean {
    for (const w of this.workers.values()) if (w.socketFor(ifindex)) return true;
    return false;
  }

  stats(): QueueWorkerStats[] {
    return [...this.workers.values()].sort((a, b) => a.queue - b.queue).map((w) => w.stats());
  }

  stop(): void {
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }
}

/**
 * Whether an interface with `queues` RX queues gets queue workers: XDPFW_QUEUE_WORKERS=1 always,
 * =multi when it has more than one queue, otherwise (the default) never. Off by default while
 * the main thread judges every batch: a worker then adds a hand-over each way and no judging
 * (measured: connect p50 ~340 µs instead of ~260 µs on a 2-vCPU VM, no steady gain in new flows).
 */
export function queueWorkersFor(queues: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const mode = env.XDPFW_QUEUE_WORKERS;
  if (mode === '1') return true;
  if (mode === 'multi') return queues > 1;
  return false;
}
