// Sequential TCP connects (run in the client namespace): each connection is
// opened, timed from connect() to the handshake's completion, closed, and
// waited for before the next. Prints {"us": [...]} with every latency.
import { connect } from 'node:net';

const [host, port, count] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4] ?? 1000)];
const us: number[] = [];

function once(): void {
  const t0 = process.hrtime.bigint();
  const c = connect({ host, port });
  c.on('connect', () => {
    us.push(Number(process.hrtime.bigint() - t0) / 1e3);
    c.end();
  });
  c.on('data', () => undefined);
  c.on('error', (e) => { process.stdout.write(`${JSON.stringify({ error: e.message })}\n`); process.exit(1); });
  c.on('close', () => (us.length < count ? once() : process.stdout.write(`${JSON.stringify({ us })}\n`)));
}
once();
