import type { MessagePort } from 'node:worker_threads';
// Messages between the daemon's main thread and its queue workers (one worker
// per RX queue index, owning the AF_XDP sockets of that queue on every
// interface). Frames travel in batches: one transferred ArrayBuffer per batch,
// never an object per packet.

/** main -> worker: requests answered synchronously (see SyncChannel). */
export type WorkerRequest =
  | { kind: 'open'; id: number; ifname: string; ifindex: number; queue: number; frameSize?: number }
  | { kind: 'close'; id: number }
  | { kind: 'stats' };

/** main -> worker: no answer. */
export type WorkerCommand =
  | { kind: 'start'; id: number }
  /** Frames to send: back to back in `frames`, their sizes in `lengths`, on socket `id`. */
  | { kind: 'tx'; items: TxItem[] };

export interface TxItem {
  id: number;
  frames: ArrayBuffer;
  lengths: Uint32Array;
  count: number;
}

export type WorkerReply =
  | { kind: 'opened'; id: number; fd: number; maxPacket: number; mode: string }
  | { kind: 'failed'; message: string }
  | { kind: 'closed' }
  | { kind: 'stats'; sockets: WorkerSocketCounters[] };

/**
 * worker -> main: a batch of received frames. `frames` holds each frame with the
 * XDP metadata in front of it; descs are [offset of the frame, length] pairs, as
 * the socket's rx() gives them for its UMEM.
 */
export interface RxBatch {
  kind: 'rx';
  id: number;
  frames: ArrayBuffer;
  descs: Uint32Array;
  count: number;
}

/** worker -> main: the worker is ending on an error nothing caught. */
export interface WorkerFatal {
  kind: 'fatal';
  message: string;
}

/** What a worker counts of one socket, with the socket's own statistics. */
export interface WorkerSocketCounters {
  id: number;
  rxDropped: number;
  rxInvalidDescs: number;
  rxTooBig: number;
  rxRingFull: number;
  fillRingEmptyDescs: number;
  /** Frames received and handed to the main thread, and in how many batches. */
  rxFrames: number;
  rxBatches: number;
  /** Frames dropped because the main thread had too many batches still to judge. */
  backlogDrops: number;
  /** Frames sent, and frames the tx ring had no room for (dropped, counted). */
  txFrames: number;
  txRingFull: number;
}

/** Slots of the Int32Array both threads share. */
export const SYNC_REPLY = 0;
/** Batches posted by the worker and not yet judged by the main thread. */
export const SYNC_BACKLOG = 1;
export const SYNC_SLOTS = 2;

/** Batches a worker may have waiting at the main thread before it drops (and counts) frames. */
export const BACKLOG_MAX = 128;

export interface WorkerData {
  queue: number;
  shared: SharedArrayBuffer;
  /** Where answers to WorkerRequests go (read by the main thread with receiveMessageOnPort). */
  reply: MessagePort;
  /** Test hook: the worker dies (an uncaught error) on a frame to this UDP/TCP port; 0: never. */
  faultPort: number;
}
