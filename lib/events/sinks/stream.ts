// A sink writing framed lines to a byte stream (a TCP connection, a file)
// that it reopens with exponential backoff whenever it is lost. It writes
// only while the stream has room, so a reader that stops reading holds at
// most one batch in the stream's buffer; the rest waits in the bounded queue,
// and what does not fit there is refused and counted.
import type { Writable } from 'node:stream';
import type { Formatter } from '../formats/context.js';
import type { SecurityEvent } from '../types.js';
import { QueuedSink } from './sink.js';

export interface Backoff {
  /** First delay before reopening; doubled after each failure, reset by success. */
  minMs: number;
  maxMs: number;
}

/** Characters per write: large enough to amortise syscalls, small enough to bound a stalled buffer. */
const BATCH_CHARS = 16 * 1024;

export abstract class StreamSink extends QueuedSink {
  private stream: Writable | null = null;
  private ready = false;
  private retryMs: number;
  private timer: NodeJS.Timeout | null = null;
  private lost = 0;

  constructor(name: string, format: Formatter, capacity: number, private readonly backoff: Backoff) {
    super(name, format, capacity);
    this.retryMs = backoff.minMs;
  }

  /** A new stream; it must emit 'ready' when writable and 'close' when gone. */
  protected abstract open(): Writable;

  /** One line as it goes on the stream. */
  protected abstract frame(line: string): string;

  /** Subclasses call this once their own fields are set. */
  protected start(): void {
    const s = this.open();
    this.stream = s;
    s.on('ready', () => {
      this.ready = true;
      this.retryMs = this.backoff.minMs;
      this.drain();
    });
    s.on('drain', () => this.drain());
    // 'close' follows every error; what was lost is counted by the write callbacks.
    s.on('error', () => {});
    s.on('close', () => {
      this.ready = false;
      this.stream = null;
      if (this.closed) return;
      this.lost++;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.start();
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, this.backoff.maxMs);
    });
  }

  protected drain(): void {
    const s = this.stream;
    while (this.ready && s !== null && !s.writableNeedDrain && this.queue.size > 0) {
      const batch: SecurityEvent[] = [];
      let chunk = '';
      while (chunk.length < BATCH_CHARS && this.queue.size > 0) {
        const ev = this.queue.shift()!;
        const line = this.render(ev);
        if (line === null) continue;
        batch.push(ev);
        chunk += this.frame(line);
      }
      if (batch.length === 0) continue;
      this.inFlight += batch.length;
      s.write(chunk, (err) => this.settle(batch, !err));
    }
  }

  protected connected(): boolean {
    return this.ready;
  }

  protected reconnects(): number {
    return this.lost;
  }

  /** Flushes what the stream already holds (up to `graceMs`), then lets it go. */
  async close(graceMs = 1000): Promise<void> {
    this.stop();
    if (this.timer !== null) clearTimeout(this.timer);
    const s = this.stream;
    if (s === null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => s.destroy(), graceMs);
      s.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      s.end();
    });
  }
}
