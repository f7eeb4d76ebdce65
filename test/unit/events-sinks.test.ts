// Sinks against real listeners on the loopback: what arrives is exactly the
// formatted lines; a collector that stops reading costs counted drops, never
// a stalled producer; a TCP collector that restarts is reconnected.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { formatter } from '../../lib/events/formats/index.js';
import { EventProducer } from '../../lib/events/producer.js';
import { createSinks, formatContext } from '../../lib/events/setup.js';
import { JsonFileSink } from '../../lib/events/sinks/json-file.js';
import type { EventSink, SinkStats } from '../../lib/events/sinks/sink.js';
import { TcpSyslogSink } from '../../lib/events/sinks/tcp.js';
import { UdpSyslogSink } from '../../lib/events/sinks/udp.js';
import { EVENT_KINDS, type EventKind, type SecurityEvent } from '../../lib/events/types.js';
import { ALL, ALL6, CREATE, CTX, DENY, NAMES } from './events-fixture.js';

const UNLIMITED = Object.fromEntries(EVENT_KINDS.map((k) => [k, Infinity])) as Record<EventKind, number>;
const FAST = { minMs: 20, maxMs: 200 };

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once `lines` stopped growing for 100 ms. */
async function quiet(lines: readonly string[]): Promise<void> {
  for (let n = -1; n !== lines.length; ) {
    n = lines.length;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function total(s: SinkStats, field: 'accepted' | 'written' | 'queueFull' | 'failed'): number {
  return EVENT_KINDS.reduce((n, k) => n + s.kinds[k][field], 0);
}

/** accepted = written + failed + queued + in flight, for the sink as a whole. */
function accounted(s: SinkStats): boolean {
  return total(s, 'accepted') === total(s, 'written') + total(s, 'failed') + s.queued + s.inFlight;
}

async function udpCollector(): Promise<{ socket: UdpSocket; port: number; lines: string[] }> {
  const socket = createSocket('udp4');
  const lines: string[] = [];
  socket.on('message', (m) => lines.push(m.toString('utf8')));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: socket.address().port, lines };
}

/** A TCP syslog collector that splits RFC 6587 octet-counted frames. */
class TcpCollector {
  readonly lines: string[] = [];
  readonly clients = new Set<Socket>();
  server: Server = createServer();

  async listen(port = 0): Promise<number> {
    this.server = createServer((c) => this.accept(c));
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  protected accept(c: Socket): void {
    this.clients.add(c);
    c.on('close', () => this.clients.delete(c));
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) return;
        const len = Number(buf.subarray(0, sp).toString('ascii'));
        if (!Number.isInteger(len)) throw new Error(`bad frame header '${buf.subarray(0, sp).toString()}'`);
        if (buf.length < sp + 1 + len) return;
        this.lines.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Accepts and never reads. */
class DeafCollector extends TcpCollector {
  protected accept(c: Socket): void {
    this.clients.add(c);
    c.pause();
  }
}

function producerWith(...sinks: EventSink[]): EventProducer {
  const p = new EventProducer({ rates: UNLIMITED });
  p.setSinks(sinks);
  return p;
}

t.test('UDP: one datagram per event, exactly the formatted line', async (t) => {
  const c = await udpCollector();
  const sink = new UdpSyslogSink({ host: '127.0.0.1', port: c.port, format: formatter('structured', CTX), capacity: 100 });
  t.teardown(() => c.socket.close());
  const events = [...ALL, ...ALL6];
  const p = producerWith(sink);
  for (const ev of events) p.emit(ev);
  await until('datagrams', () => c.lines.length === events.length);
  t.same(c.lines, events.map(formatter('structured', CTX)));
  const s = sink.stats();
  t.equal(total(s, 'written'), events.length);
  t.equal(s.name, `syslog udp 127.0.0.1:${c.port}`);
  await sink.close();
  t.equal(sink.offer(CREATE), 'closed');
});

t.test('TCP: octet-counted frames, byte lengths of UTF-8', async (t) => {
  const c = new TcpCollector();
  const port = await c.listen();
  const ctx = { hostname: 'fw1', names: { ...NAMES, zone: (id: number) => (id === 1 ? 'zöne-ü' : 'ünträst') } };
  const sink = new TcpSyslogSink({ host: '127.0.0.1', port, format: formatter('rfc3164', ctx), capacity: 100, backoff: FAST });
  t.teardown(async () => {
    await sink.close();
    await c.stop();
  });
  const events = [...ALL, ...ALL6];
  const p = producerWith(sink);
  for (const ev of events) p.emit(ev);
  await until('frames', () => c.lines.length === events.length);
  t.same(c.lines, events.map(formatter('rfc3164', ctx)));
  t.ok(c.lines.some((l) => l.includes('zöne-ü')), 'multi-byte names arrive whole');
  t.ok(sink.stats().connected);
});

t.test('a TCP collector that stops reading stalls nothing and loses only counted events', async (t) => {
  const deaf = new DeafCollector();
  const port = await deaf.listen();
  const u = await udpCollector();
  const capacity = 1000;
  const tcp = new TcpSyslogSink({ host: '127.0.0.1', port, format: formatter('structured', CTX), capacity, backoff: FAST });
  const udp = new UdpSyslogSink({ host: '127.0.0.1', port: u.port, format: formatter('brief', CTX), capacity });
  t.teardown(async () => {
    await tcp.close(10);
    await udp.close();
    u.socket.close();
    await deaf.stop();
  });
  await until('TCP connected', () => tcp.stats().connected);
  const p = producerWith(tcp, udp);

  // In waves, so the sink can fill the kernel's socket buffers between them
  // before its own queue fills up too.
  let emitMs = 0;
  for (let wave = 0; wave < 100; wave++) {
    const started = performance.now();
    for (let i = 0; i < 1000; i++) p.emit({ ...DENY, sourcePort: i });
    emitMs += performance.now() - started;
    await new Promise((r) => setImmediate(r));
  }
  t.ok(emitMs < 2000, `100,000 emits took ${emitMs.toFixed(0)} ms in all`);

  await until('UDP drained', () => udp.stats().queued === 0 && udp.stats().inFlight === 0);
  const s = tcp.stats();
  t.ok(total(s, 'queueFull') > 0, `the stalled sink refused ${total(s, 'queueFull')} events`);
  t.equal(s.queued, capacity, 'its queue is full and stays within its budget');
  t.ok(s.inFlight < 100, `at most one write batch waits in the stream (${s.inFlight} events)`);
  t.ok(accounted(s), 'every event it accepted is written, failed, queued or in flight');
  t.equal(total(s, 'accepted') + total(s, 'queueFull'), 100_000, 'it was offered every event');
  const c = p.counters()['policy-deny'];
  t.equal(c.generated, c.sent + c.rateLimited + c.queueFull + c.sinkFailed);

  // The other sink is not slowed: new events reach its collector while TCP
  // stays stalled. (Once the collector has read its backlog: UDP datagrams
  // beyond its socket buffer are the kernel's to drop.)
  await quiet(u.lines);
  const before = u.lines.length;
  for (let i = 0; i < 5; i++) p.emit({ ...CREATE, sessionId: 900 + i });
  await until('UDP lines after the storm', () => u.lines.filter((l) => / 90[0-4] N\/A/.test(l)).length === 5);
  t.ok(u.lines.length > before);
  t.equal(total(tcp.stats(), 'queueFull'), total(s, 'queueFull') + 5, 'the stalled sink refused those too');
});

t.test('the TCP sink reconnects after the collector restarts', async (t) => {
  const c = new TcpCollector();
  const port = await c.listen();
  const fmt = formatter('structured', CTX);
  const sink = new TcpSyslogSink({ host: '127.0.0.1', port, format: fmt, capacity: 100, backoff: FAST });
  t.teardown(async () => {
    await sink.close();
    await c.stop();
  });
  const p = producerWith(sink);
  const batch = (first: number, n: number): SecurityEvent[] => Array.from({ length: n }, (_, i) => ({ ...CREATE, sessionId: first + i }));

  for (const ev of batch(1, 3)) p.emit(ev);
  await until('first batch', () => c.lines.length === 3);

  await c.stop();
  await until('disconnect noticed', () => !sink.stats().connected);
  const whileDown = batch(10, 3);
  for (const ev of whileDown) p.emit(ev);
  t.equal(sink.stats().queued, 3, 'events wait in the queue while the collector is away');

  const restarted = new TcpCollector();
  await restarted.listen(port);
  t.teardown(() => restarted.stop());
  await until('reconnect', () => sink.stats().connected);
  const after = batch(20, 2);
  for (const ev of after) p.emit(ev);
  await until('queued and new events', () => restarted.lines.length === 5);
  t.same(restarted.lines, [...whileDown, ...after].map(fmt), 'in order, nothing lost across the restart');
  t.ok(sink.stats().reconnects >= 1);
  t.ok(accounted(sink.stats()));
});

t.test('JSON lines appended to a file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-events-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'events.json');
  writeFileSync(path, 'earlier\n');
  const fmt = formatter('json', CTX);
  const sink = new JsonFileSink({ path, format: fmt, capacity: 100, backoff: FAST });
  const p = producerWith(sink);
  for (const ev of ALL) p.emit(ev);
  await until('written', () => total(sink.stats(), 'written') === ALL.length);
  await sink.close();
  t.same(readFileSync(path, 'utf8').split('\n'), ['earlier', ...ALL.map(fmt), '']);
});

t.test('an unwritable JSON file fails counted and is retried', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-events-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'missing-dir', 'events.json');
  const sink = new JsonFileSink({ path, format: formatter('json', CTX), capacity: 2, backoff: FAST });
  const p = producerWith(sink);
  t.same([p.emit(CREATE), p.emit(CREATE), p.emit(CREATE)], ['sent', 'sent', 'queue-full']);
  await until('retries', () => sink.stats().reconnects >= 2);
  t.equal(sink.stats().connected, false);
  await sink.close();
  t.same(sink.stats().kinds['session-create'], { accepted: 2, written: 0, queueFull: 1, failed: 2 });
});

t.test('system syslog configuration builds the sinks', async (t) => {
  const c = await udpCollector();
  t.teardown(() => c.socket.close());
  const r = compileText(
    `system { host-name edge-1; syslog { host 127.0.0.1 { port ${c.port}; format brief; } rate-limit 2; } }`,
    'fw.conf',
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const ctx = formatContext(r.config.syslog, NAMES);
  t.equal(ctx.hostname, 'edge-1');
  const sinks = createSinks(r.config.syslog, ctx);
  t.same(sinks.map((s) => s.name), [`syslog udp 127.0.0.1:${c.port}`]);
  const p = new EventProducer();
  p.setSinks(sinks);
  for (const ev of ALL) p.emit(ev);
  await until('lines', () => c.lines.length === ALL.length);
  t.same(c.lines, ALL.map(formatter('brief', ctx)));
  t.match(c.lines[0], /^Mar {2}2 10:15:04 edge-1 RT_FLOW: /);
  await Promise.all(sinks.map((s) => s.close()));
});
