// Sequential TCP connects that may fail (run in the client namespace): each is opened, timed
// from connect() to the handshake's completion, and closed before the next; one not complete
// within the timeout (or refused) counts as failed and the next one starts. Prints
// {"us": [...], "failed": n}: the latencies of those that succeeded.
import { connect } from 'node:net';

const [host, port, count, timeoutMs] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4] ?? 20), Number(process.argv[5] ?? 5000)];
const us: number[] = [];
let failed = 0;

function once(): void {
  const t0 = process.hrtime.bigint();
  const c = connect({ host, port });
  let done = false;
  const next = (ok: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (ok) us.push(Number(process.hrtime.bigint() - t0) / 1e3);
    else failed++;
    c.destroy();
    if (us.length + failed < count) setImmediate(once);
    else process.stdout.write(`${JSON.stringify({ us, failed })}\n`);
  };
  const timer = setTimeout(() => next(false), timeoutMs);
  c.on('connect', () => next(true));
  c.on('data', () => undefined);
  c.on('error', () => next(false));
}
once();
