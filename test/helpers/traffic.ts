// Traffic endpoints for the end-to-end tests and the demo, run inside the
// test's network namespaces (`ip netns exec NS node traffic.js ...`). Each
// prints one JSON line with what it saw, so tests assert real outcomes.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string', default: '' },
    port: { type: 'string', default: '5001' },
    bytes: { type: 'string', default: '0' },
    count: { type: 'string', default: '5' },
    interval: { type: 'string', default: '100' },
    timeout: { type: 'string', default: '3000' },
    listen: { type: 'string', default: '::' },
    sport: { type: 'string', default: '0' },
    transport: { type: 'string', default: 'udp' },
    iface: { type: 'string', default: 'eth0' },
    frame: { type: 'string', default: '' },
    rate: { type: 'string', default: '0' },
    'vary-at': { type: 'string', default: '-1' },
    connect: { type: 'boolean', default: false },
    'opt-bytes': { type: 'string', default: '8' },
    source: { type: 'string', default: '' },
    size: { type: 'string', default: '0' },
  },
});
const port = Number(values.port);
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

function tcpSink(): void {
  // Counts what each connection sends, answers with the count, then closes.
  const server = createServer((c) => {
    let n = 0;
    c.on('data', (d) => (n += d.length));
    c.on('end', () => c.end(`${n}\n`));
    c.on('error', () => c.destroy());
  });
  server.listen(port, values.listen, () => out({ listening: port }));
}

function tcpSend(): void {
  // Sends `bytes` bytes, half-closes, and waits for the sink's count.
  const total = Number(values.bytes);
  const started = process.hrtime.bigint();
  const c = connect({ host: values.host, port, timeout: Number(values.timeout), ...(values.source ? { localAddress: values.source } : {}) });
  let reply = '';
  let localPort = 0;
  c.on('connect', () => {
    localPort = c.localPort ?? 0; // gone once the socket closes
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = total;
    const pump = (): void => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!c.write(piece)) return void c.once('drain', pump);
      }
      c.end();
    };
    c.setTimeout(0);
    pump();
  });
  c.on('data', (d) => (reply += d.toString()));
  c.on('timeout', () => { out({ ok: false, error: 'ETIMEDOUT' }); process.exit(0); });
  c.on('error', (e: NodeJS.ErrnoException) => { out({ ok: false, error: e.code ?? e.message }); process.exit(0); });
  c.on('close', () => {
    if (reply === '') return;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    out({ ok: true, sent: total, received: Number(reply.trim()), ms, localPort });
  });
}

function tcpServe(): void {
  // Sends `bytes` bytes to each connection, then closes it: a download.
  const total = Number(values.bytes);
  const server = createServer((c) => {
    const chunk = Buffer.alloc(64 * 1024, 0x64);
    let left = total;
    const pump = (): void => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!c.write(piece)) return void c.once('drain', pump);
      }
      c.end();
    };
    c.on('error', () => c.destroy());
    c.resume();
    pump();
  });
  server.listen(port, values.listen, () => out({ listening: port }));
}

function tcpFetch(): void {
  // Counts what a tcp-serve sends until it closes.
  const started = process.hrtime.bigint();
  const c = connect({ host: values.host, port, timeout: Number(values.timeout) });
  let received = 0;
  c.on('data', (d) => (received += d.length));
  c.on('timeout', () => { out({ ok: false, error: 'ETIMEDOUT', received }); process.exit(0); });
  c.on('error', (e: NodeJS.ErrnoException) => { out({ ok: false, error: e.code ?? e.message, received }); process.exit(0); });
  c.on('end', () => out({ ok: true, received, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
}

function tcpTrickle(): void {
  // One connection sending a small chunk every `interval` ms, `count` times.
  const c = connect({ host: values.host, port, timeout: Number(values.timeout) });
  let reply = '';
  c.on('connect', () => {
    // The timeout stays armed as an idle timeout: a stream cut by the
    // firewall ends with ETIMEDOUT instead of hanging.
    out({ connected: true, localPort: c.localPort });
    let left = Number(values.count);
    let sent = 0;
    const tick = setInterval(() => {
      c.write(Buffer.alloc(1000, 0x62));
      sent += 1000;
      if (--left <= 0) { clearInterval(tick); c.end(); }
    }, Number(values.interval));
    // SIGUSR1 ends the stream early, as if `count` were reached: a test keeps
    // a flow alive as long as its observations take, however slow the machine.
    process.once('SIGUSR1', () => {
      if (left <= 0) return;
      left = 0;
      clearInterval(tick);
      out({ stopped: true, sent });
      c.end();
    });
  });
  c.on('data', (d) => (reply += d.toString()));
  c.on('timeout', () => { out({ ok: false, error: 'ETIMEDOUT' }); process.exit(0); });
  c.on('error', (e: NodeJS.ErrnoException) => { out({ ok: false, error: e.code ?? e.message }); process.exit(0); });
  c.on('close', () => out({ ok: reply !== '', received: Number(reply.trim()) }));
}

function udpEcho(): void {
  const s = createSocket({ type: 'udp6' });
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(port, values.listen, () => out({ listening: port }));
}

function udpPing(): void {
  // Sends `count` datagrams and counts the echoes that come back in time.
  // With --connect the socket is connected, so the kernel reports an ICMP
  // unreachable answering it as an error (ECONNREFUSED, EHOSTUNREACH, ...):
  // the first one ends the run, with `error` and `ms` since the first send.
  // With --bytes (or --size) each datagram carries that many bytes (more than
  // the MTU: sent as IP fragments), and only an echo of exactly one of them counts.
  const v6 = values.host.includes(':');
  const s = createSocket({ type: v6 ? 'udp6' : 'udp4' });
  let got = 0;
  let started = 0n;
  const count = Number(values.count);
  const size = Number(values.bytes) || Number(values.size);
  const datagram = (i: number): Buffer | string => {
    if (size <= 0) return `ping ${i}`;
    const b = Buffer.alloc(size);
    for (let at = 0; at < size; at++) b[at] = (at * 7 + i) & 0xff;
    return b;
  };
  const sentOnes = new Set<string>();
  s.on('message', (m) => {
    if (size > 0 && !sentOnes.delete(m.toString('hex'))) return;
    if (++got === count) finish();
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    out({ sent: count, received: got, error: e.code ?? e.message, ms });
    process.exit(0);
  });
  const finish = (): void => { out({ sent: count, received: got }); s.close(); process.exit(0); };
  const send = (i: number): void => {
    const d = datagram(i);
    if (size > 0) sentOnes.add((d as Buffer).toString('hex'));
    if (values.connect) s.send(d);
    else s.send(d, port, values.host);
  };
  const start = (): void => {
    started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) setTimeout(() => send(i), i * Number(values.interval));
    setTimeout(finish, count * Number(values.interval) + Number(values.timeout));
  };
  s.bind(Number(values.sport), () => {
    if (values.connect) s.connect(port, values.host, start);
    else start();
  });
}

function syslogListen(): void {
  // A syslog collector: UDP datagrams, or TCP with RFC 6587 octet counting.
  // Prints each message as {"msg": ...}.
  if (values.transport === 'udp') {
    const s = createSocket({ type: values.listen.includes(':') ? 'udp6' : 'udp4' });
    s.on('message', (m) => out({ msg: m.toString() }));
    s.bind(port, values.listen, () => out({ listening: port }));
    return;
  }
  const server = createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) return;
        const len = Number(buf.subarray(0, sp).toString());
        if (buf.length < sp + 1 + len) return;
        out({ msg: buf.subarray(sp + 1, sp + 1 + len).toString() });
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  server.listen(port, values.listen, () => out({ listening: port }));
}

function tcpHold(): void {
  // Opens `count` connections and holds them idle (the handshake only); prints how many
  // connected once every attempt ended. On SIGUSR1 the first one sends a byte.
  const sockets: ReturnType<typeof connect>[] = [];
  let connected = 0;
  let ended = 0;
  const total = Number(values.count);
  const settle = (): void => {
    if (++ended === total) out({ connected });
  };
  for (let i = 0; i < total; i++) {
    const c = connect({ host: values.host, port, timeout: Number(values.timeout) });
    c.on('connect', () => { connected++; sockets.push(c); c.setTimeout(0); settle(); });
    c.on('timeout', () => { c.destroy(); settle(); });
    c.on('error', () => undefined);
  }
  process.on('SIGUSR1', () => sockets[0]?.write('x', () => out({ sent: 1 })));
}

function tcpStall(): void {
  // Accepts connections and never reads from them: a collector that hangs.
  const server = createServer((c) => c.pause());
  server.listen(port, values.listen, () => out({ listening: port }));
}

// Sends a raw Ethernet frame `count` times (AF_PACKET, which Node lacks),
// paced to `rate` frames per second (0: as fast as it goes), adding the
// frame's number to the 16-bit field at byte `vary-at` (e.g. the TCP source
// port) so each frame is another flow.
const RAW_SEND = `
import socket, sys, time
iface, frame, count, rate, at = sys.argv[1], bytearray.fromhex(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
base = int.from_bytes(frame[at:at + 2], 'big') if at >= 0 else 0
start = time.monotonic()
for i in range(count):
    if at >= 0:
        frame[at:at + 2] = ((base + i) & 0xffff).to_bytes(2, 'big')
    s.send(frame)
    if rate > 0 and i % 50 == 49:
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
print(count)
`;

function rawSend(): void {
  const r = spawnSync('python3', ['-c', RAW_SEND, values.iface, values.frame, values.count, values.rate, values['vary-at']], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  out({ sent: Number(r.stdout.trim()) });
}

// One IPv6 UDP datagram from `source` to host:port with `bytes` bytes of payload behind a
// destination-options header of `opt-bytes` bytes (PadN options), built whole and sent through
// a raw socket (the kernel routes it and resolves the neighbour; its UDP socket refuses such a
// chain on a 1500-byte link), then every ICMPv6 error that comes back within `timeout` ms, read
// from a raw ICMPv6 socket, which the kernel fills only with messages whose checksum is good.
const UDP_DSTOPTS = `
import json, select, socket, struct, sys, time
src, host, port, size, optlen, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]) / 1000
opts = bytearray(optlen)
opts[0] = 17
opts[1] = optlen // 8 - 1
at = 2
while at + 1 < optlen:
    opts[at] = 1
    opts[at + 1] = min(255, optlen - at - 2)
    at += 257
payload = bytes(range(size))
s_addr, d_addr = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, host)
def csum(b):
    if len(b) % 2:
        b += b'\\0'
    n = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while n > 0xffff:
        n = (n & 0xffff) + (n >> 16)
    return 0xffff - n
udp = struct.pack('!HHHH', 40000, port, 8 + size, 0) + payload
check = csum(s_addr + d_addr + struct.pack('!IxxxB', len(udp), 17) + udp) or 0xffff
udp = udp[:6] + struct.pack('!H', check) + udp[8:]
body = bytes(opts) + udp
packet = struct.pack('!IHBB', 0x60000000, len(body), 60, 64) + s_addr + d_addr + body
icmp = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
raw.sendto(packet, (host, 0))
errors = []
end = time.monotonic() + timeout
while True:
    left = end - time.monotonic()
    if left <= 0 or not select.select([icmp], [], [], left)[0]:
        break
    msg, addr = icmp.recvfrom(65535)
    if msg[0] < 128:
        errors.append({'type': msg[0], 'code': msg[1], 'from': addr[0], 'hex': msg.hex()})
print(json.dumps({'sent': packet.hex(), 'errors': errors}))
`;

function udpDstopts(): void {
  const r = spawnSync('python3', ['-c', UDP_DSTOPTS, values.source, values.host, values.port, values.bytes, values['opt-bytes'], values.timeout], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  process.stdout.write(r.stdout);
}

function httpGet(): void {
  // One GET; prints the status and body.
  fetch(values.host, { signal: AbortSignal.timeout(Number(values.timeout)) }).then(
    async (res) => out({ status: res.status, contentType: res.headers.get('content-type'), body: await res.text() }),
    (e: Error) => out({ status: 0, error: e.message }),
  );
}

const modes: Record<string, () => void> = {
  'http-get': httpGet,
  'raw-send': rawSend,
  'udp-dstopts': udpDstopts,
  'syslog-listen': syslogListen,
  'tcp-hold': tcpHold,
  'tcp-stall': tcpStall, 'tcp-sink': tcpSink, 'tcp-send': tcpSend, 'tcp-serve': tcpServe, 'tcp-fetch': tcpFetch, 'tcp-trickle': tcpTrickle, 'udp-echo': udpEcho, 'udp-ping': udpPing };
const run = modes[positionals[0] ?? ''];
if (!run) {
  process.stderr.write(`usage: traffic.js ${Object.keys(modes).join('|')} [options]\n`);
  process.exit(2);
}
run();
