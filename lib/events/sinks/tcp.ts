// Syslog over TCP with RFC 6587 octet counting (`LEN SP MSG`), so any line,
// newlines included, frames unambiguously. Reconnects with backoff; see
// StreamSink for how a collector that stops reading is contained.
import { connect } from 'node:net';
import type { Writable } from 'node:stream';
import type { Formatter } from '../formats/context.js';
import { StreamSink, type Backoff } from './stream.js';

export interface TcpSyslogOptions {
  host: string;
  port: number;
  format: Formatter;
  capacity: number;
  backoff: Backoff;
  /** For stats; defaults to `syslog tcp HOST:PORT`. */
  name?: string;
}

/** Probes an idle connection so a collector that vanished is noticed. */
const KEEPALIVE_MS = 10_000;

export class TcpSyslogSink extends StreamSink {
  private readonly host: string;
  private readonly port: number;

  constructor(o: TcpSyslogOptions) {
    super(o.name ?? `syslog tcp ${hostPort(o.host, o.port)}`, o.format, o.capacity, o.backoff);
    this.host = o.host;
    this.port = o.port;
    this.start();
  }

  protected open(): Writable {
    const s = connect({ host: this.host, port: this.port });
    s.setKeepAlive(true, KEEPALIVE_MS);
    return s;
  }

  protected frame(line: string): string {
    return `${Buffer.byteLength(line)} ${line}`;
  }
}

/** `192.0.2.1:514`, `[2001:db8::1]:514`. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
