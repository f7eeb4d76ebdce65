// From `system syslog` settings to what the producer runs with.
import { hostname } from 'node:os';
import type { SyslogSettings } from '../config/types.js';
import { formatter, type FormatContext, type NameResolver } from './formats/index.js';
import { DEFAULT_EVENT_RATES, type EventRates } from './rate-limit.js';
import { JsonFileSink } from './sinks/json-file.js';
import type { EventSink } from './sinks/sink.js';
import type { Backoff } from './sinks/stream.js';
import { TcpSyslogSink } from './sinks/tcp.js';
import { UdpSyslogSink } from './sinks/udp.js';
import { EVENT_KINDS, type EventKind } from './types.js';

export interface SinkOptions {
  /** Events each sink may hold (the queue budget). */
  queueCapacity?: number;
  backoff?: Backoff;
}

export const DEFAULT_QUEUE_CAPACITY = 10_000;
export const DEFAULT_BACKOFF: Backoff = { minMs: 100, maxMs: 30_000 };

export function formatContext(settings: SyslogSettings, names: NameResolver): FormatContext {
  // RFC 5424 HOSTNAME is at most 255 printable characters: cut and clean what the OS says.
  return { hostname: settings.hostName ?? (hostname().replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-'), names };
}

/** One sink per `syslog host`, plus the JSON file if configured. */
export function createSinks(settings: SyslogSettings, ctx: FormatContext, opts: SinkOptions = {}): EventSink[] {
  const capacity = opts.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const sinks: EventSink[] = settings.hosts.map((h) => {
    const format = formatter(h.format, ctx);
    return h.transport === 'tcp'
      ? new TcpSyslogSink({ host: h.address, port: h.port, format, capacity, backoff })
      : new UdpSyslogSink({ host: h.address, port: h.port, format, capacity });
  });
  if (settings.jsonFile !== null) {
    sinks.push(new JsonFileSink({ path: settings.jsonFile, format: formatter('json', ctx), capacity, backoff }));
  }
  return sinks;
}

/** `rate-limit N` applies to every kind; without it, the per-kind defaults. */
export function eventRates(settings: SyslogSettings): EventRates {
  const n = settings.rateLimit;
  if (n === null) return DEFAULT_EVENT_RATES;
  return Object.fromEntries(EVENT_KINDS.map((k) => [k, n])) as Record<EventKind, number>;
}
