// The traffic of the pair's failover test, as real TCP between a client and a
// server namespace: idle echo connections and one long paced download. Each
// side is a Node.js process started in its namespace with `ip netns exec`; the
// client reports on stdout (one JSON object a line) and takes commands on stdin.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ECHO_PORT = 7000;
export const BULK_PORT = 7001;

const SERVER_JS = `
const net = require('node:net');
const [total, perTick] = process.argv.slice(2).map(Number);
net.createServer((s) => s.pipe(s)).listen(${ECHO_PORT});
net.createServer((s) => {
  let sent = 0;
  const chunk = Buffer.alloc(perTick, 0x61);
  const timer = setInterval(() => {
    if (sent >= total) { clearInterval(timer); s.end(); return; }
    const n = Math.min(perTick, total - sent);
    sent += n;
    s.write(n === perTick ? chunk : chunk.subarray(0, n));
  }, 10);
  s.on('error', () => clearInterval(timer));
}).listen(${BULK_PORT}, () => console.log('listening'));
`;

const CLIENT_JS = `
const net = require('node:net');
const readline = require('node:readline');
const [server, idleCount] = [process.argv[2], Number(process.argv[3])];
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const idle = [];
function echo(sock, text, ms) {
  return new Promise((resolve) => {
    let got = '';
    const timer = setTimeout(() => { sock.off('data', on); resolve(false); }, ms);
    const on = (d) => { got += d; if (got.includes(text)) { clearTimeout(timer); sock.off('data', on); resolve(true); } };
    sock.on('data', on);
    sock.write(text);
  });
}
(async () => {
  for (let i = 0; i < idleCount; i++) {
    const s = net.connect(${ECHO_PORT}, server);
    s.on('error', (e) => say({ error: 'idle ' + i + ': ' + e.message }));
    await new Promise((r) => s.once('connect', r));
    idle.push(s);
    if (!(await echo(s, 'hello ' + i + '\\n', 5000))) say({ error: 'idle ' + i + ': no first echo' });
  }
  say({ idle: idle.length });
  const b = net.connect(${BULK_PORT}, server);
  let bytes = 0, last = 0, maxGap = 0, gapAt = 0, first = 0;
  b.on('data', (d) => {
    const now = performance.now();
    if (!first) first = now;
    else if (now - last > maxGap) { maxGap = now - last; gapAt = bytes; }
    last = now;
    bytes += d.length;
  });
  b.on('error', (e) => say({ error: 'bulk: ' + e.message }));
  b.on('close', () => say({ bulk: { bytes, maxGapMs: Math.round(maxGap), gapAtBytes: gapAt, durationMs: Math.round(last - first) } }));
  const progress = setInterval(() => say({ progress: bytes }), 200);
  b.on('close', () => clearInterval(progress));
  readline.createInterface({ input: process.stdin }).on('line', async (line) => {
    if (line !== 'probe') return;
    const ok = await Promise.all(idle.map((s, i) => echo(s, 'again ' + i + '\\n', 20000)));
    say({ probe: ok });
  });
})();
`;

export interface FlowReport {
  idle?: number;
  progress?: number;
  bulk?: { bytes: number; maxGapMs: number; gapAtBytes: number; durationMs: number };
  probe?: boolean[];
  error?: string;
}

/** The server side: echo on ECHO_PORT, on BULK_PORT `total` bytes paced at `perTick` every 10 ms. */
export async function startServer(dir: string, ns: string, total: number, perTick: number): Promise<ChildProcess> {
  const file = join(dir, 'ha-server.cjs');
  writeFileSync(file, SERVER_JS);
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, file, String(total), String(perTick)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    child.stdout!.once('data', () => resolve());
  });
  return child;
}

/** The client: `idle` echo connections, then the download; reports as FlowReport lines. */
export class FlowClient {
  readonly reports: FlowReport[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly child: ChildProcess;

  constructor(dir: string, ns: string, server: string, idle: number) {
    const file = join(dir, 'ha-client.cjs');
    writeFileSync(file, CLIENT_JS);
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, file, server, String(idle)], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.reports.push(JSON.parse(line) as FlowReport);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The first report (from now on, or already in) that `pick` accepts. */
  async next<T>(pick: (r: FlowReport) => T | undefined, timeoutMs: number, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const r of this.reports.slice(from)) {
        const v = pick(r);
        if (v !== undefined) return v;
      }
      if (Date.now() > deadline) throw new Error(`no such report from the client in ${timeoutMs} ms; last: ${JSON.stringify(this.reports.slice(-3))}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }

  /** Sends on every idle connection and reports whether each echoed. */
  async probe(timeoutMs: number): Promise<boolean[]> {
    const from = this.reports.length;
    this.child.stdin!.write('probe\n');
    return this.next((r) => r.probe, timeoutMs, from);
  }

  errors(): string[] {
    return this.reports.flatMap((r) => (r.error ? [r.error] : []));
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
