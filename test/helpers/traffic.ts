// Traffic endpoints for the end-to-end tests and the demo, run inside the
// test's network namespaces (`ip netns exec NS node traffic.js ...`). Each
// prints one JSON line with what it saw, so tests assert real outcomes.
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
  const c = connect({ host: values.host, port, timeout: Number(values.timeout) });
  let reply = '';
  c.on('connect', () => {
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
    out({ ok: true, sent: total, received: Number(reply.trim()), ms, localPort: c.localPort });
  });
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
    const tick = setInterval(() => {
      c.write(Buffer.alloc(1000, 0x62));
      if (--left <= 0) { clearInterval(tick); c.end(); }
    }, Number(values.interval));
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
  const v6 = values.host.includes(':');
  const s = createSocket({ type: v6 ? 'udp6' : 'udp4' });
  let got = 0;
  const count = Number(values.count);
  s.on('message', () => {
    if (++got === count) finish();
  });
  const finish = (): void => { out({ sent: count, received: got }); s.close(); process.exit(0); };
  s.bind(Number(values.sport), () => {
    for (let i = 0; i < count; i++) setTimeout(() => s.send(`ping ${i}`, port, values.host), i * Number(values.interval));
    setTimeout(finish, count * Number(values.interval) + Number(values.timeout));
  });
}

function httpGet(): void {
  // One GET; prints the status and body.
  fetch(values.host, { signal: AbortSignal.timeout(Number(values.timeout)) }).then(
    async (res) => out({ status: res.status, contentType: res.headers.get('content-type'), body: await res.text() }),
    (e: Error) => out({ status: 0, error: e.message }),
  );
}

const modes: Record<string, () => void> = {
  'http-get': httpGet, 'tcp-sink': tcpSink, 'tcp-send': tcpSend, 'tcp-trickle': tcpTrickle, 'udp-echo': udpEcho, 'udp-ping': udpPing };
const run = modes[positionals[0] ?? ''];
if (!run) {
  process.stderr.write(`usage: traffic.js ${Object.keys(modes).join('|')} [options]\n`);
  process.exit(2);
}
run();
