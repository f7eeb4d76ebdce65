// Syslog over UDP: one message per datagram (RFC 5426). At most MAX_IN_FLIGHT
// sends are outstanding, so libuv's own send queue stays bounded and the rest
// waits in the sink's queue.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Formatter } from '../formats/context.js';
import type { SecurityEvent } from '../types.js';
import { QueuedSink } from './sink.js';
import { hostPort } from './tcp.js';

export interface UdpSyslogOptions {
  host: string;
  port: number;
  format: Formatter;
  capacity: number;
  /** For stats; defaults to `syslog udp HOST:PORT`. */
  name?: string;
}

const MAX_IN_FLIGHT = 64;

export class UdpSyslogSink extends QueuedSink {
  private readonly socket: Socket;
  private readonly host: string;
  private readonly port: number;

  constructor(o: UdpSyslogOptions) {
    super(o.name ?? `syslog udp ${hostPort(o.host, o.port)}`, o.format, o.capacity);
    this.host = o.host;
    this.port = o.port;
    this.socket = createSocket(isIPv6(o.host) ? 'udp6' : 'udp4');
    // Send errors reach the send callbacks; nothing else can fail.
    this.socket.on('error', () => {});
  }

  protected drain(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.size > 0) {
      const ev = this.queue.shift()!;
      const line = this.render(ev);
      if (line === null) continue;
      this.inFlight++;
      this.socket.send(line, this.port, this.host, (err) => this.sent(ev, err));
    }
  }

  private sent(ev: SecurityEvent, err: Error | null): void {
    this.settleOne(ev, err === null);
    if (this.queue.size > 0) this.schedule();
  }

  protected connected(): boolean {
    return !this.closed;
  }

  protected reconnects(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
