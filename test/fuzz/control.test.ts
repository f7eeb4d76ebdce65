// Malformed control requests against a running daemon, raw on its control
// socket (test/fuzz/control-requests.ts). Every request gets one JSON
// response line ({ok:false,error} for anything that is not a request of a
// known command with fields of the right type and value) or, past the size
// limit, the connection closed; never a hang. The daemon answers `status` throughout,
// and afterwards a new flow still forwards.
import { createConnection } from 'node:net';
import t from 'tap';
import { type ControlCase, controlCase } from './control-requests.js';
import { FuzzDaemon } from './daemon.js';
import { fuzzPlan } from './seed.js';

const plan = fuzzPlan(1206);
t.comment(`fuzz seed ${plan.seed} (${plan.large ? 'large' : 'small'}); replay: ${plan.replay('control')}`);

let daemon: FuzzDaemon;
t.before(async () => {
  daemon = await FuzzDaemon.start();
});
t.teardown(() => daemon?.destroy());

/** How long a request may take to be answered on a loaded 2-core machine. */
const ANSWER_MS = 30_000;
/** How long a request that may stream but must be refused may take to be (on a loaded machine). */
const REFUSAL_MS = 10_000;
/** Lines this long may be cut off unanswered (the server's request size limit is 64 KiB). */
const MAX_ANSWERED = 60_000;
/** How long a monitor stream is kept open before the client hangs up. */
const STREAM_MS = 100;

type Outcome = { reply: string | null } | { hang: true };

/** Sends one case; resolves with its first response line (null: closed without one). */
function send(socket: string, c: ControlCase): Promise<Outcome> {
  return new Promise((resolve) => {
    const conn = createConnection(socket);
    let data = '';
    let done = false;
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(hang);
      clearTimeout(stream);
      conn.destroy();
      resolve(o);
    };
    const hang = setTimeout(() => finish({ hang: true }), c.mustRefuse && c.mayStream ? REFUSAL_MS : ANSWER_MS);
    // A request that must be refused gets its refusal, stream or not.
    const stream = c.mayStream && !c.mustRefuse ? setTimeout(() => finish({ reply: data.length ? data.split('\n')[0]! : null }), STREAM_MS) : undefined;
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      data += d;
      if (data.includes('\n')) finish({ reply: data.slice(0, data.indexOf('\n')) });
    });
    conn.on('error', () => finish({ reply: data.length ? data : null }));
    conn.on('close', () => finish({ reply: data.length ? data : null }));
    conn.on('connect', () => {
      conn.write(c.wire);
      // A request cut short (no newline) must not leave the server waiting for the rest.
      if (!c.wire.toString('latin1').endsWith('\n')) conn.end();
    });
  });
}

/** What is wrong with the outcome of one case, or null. */
function judge(c: ControlCase, o: Outcome): string | null {
  if ('hang' in o) return `no answer within ${c.mustRefuse && c.mayStream ? REFUSAL_MS : ANSWER_MS} ms`;
  if (o.reply === null) {
    // Closed without a word: fine for a line over the size limit, or one that may stream.
    return c.mustRefuse && c.wire.length < MAX_ANSWERED ? 'closed without a refusal' : null;
  }
  let res: unknown;
  try {
    res = JSON.parse(o.reply);
  } catch {
    return c.mayStream ? null : `response is not JSON: ${o.reply.slice(0, 200)}`;
  }
  if (typeof res !== 'object' || res === null) return c.mayStream ? null : `response is not an object: ${o.reply.slice(0, 200)}`;
  const r = res as { ok?: unknown; error?: unknown };
  if (typeof r.ok !== 'boolean') return c.mayStream ? null : `response has no boolean ok: ${o.reply.slice(0, 200)}`;
  if (!r.ok && (typeof r.error !== 'string' || r.error === '')) return `ok:false without an error message: ${o.reply.slice(0, 200)}`;
  if (c.mustRefuse && r.ok) return `accepted: ${o.reply.slice(0, 200)}`;
  return null;
}

t.test('malformed control requests are refused, the daemon stays up and forwarding works', async (t) => {
  const total = plan.count(400, 10_000);
  const ids = plan.cases(total);
  const BATCH = 100;
  const PARALLEL = 8;
  let answered = 0;
  const problems: string[] = [];
  for (let b = 0; b < ids.length; b += BATCH) {
    const batch = ids.slice(b, b + BATCH).map((i) => ({ i, c: controlCase(plan.rand(i)) }));
    const queue = [...batch];
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const wrong = judge(next.c, await send(daemon.socket, next.c));
        if (wrong) problems.push(`case ${next.i} (FUZZ_CASE=${next.i}): ${wrong}\n  request: ${next.c.describe}`);
        else answered++;
      }
    }));
    const down = await daemon.alive();
    if (down) {
      t.fail(`daemon down after cases ${batch[0]!.i}..${batch.at(-1)!.i}, one of:\n${batch.map((x) => `  ${x.i}: ${x.c.describe.slice(0, 100)}`).join('\n')}\n${down}\nreplay: ${plan.replay('control')}`);
      return;
    }
  }
  // Every wrong answer is listed (the first 20), after the run went on to look for worse.
  if (problems.length) {
    const kinds: Record<string, number> = {};
    for (const p of problems) {
      const kind = p.replace(/^case \d+ \(FUZZ_CASE=\d+\): /, '').split(/[:\n]/)[0]!;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    t.fail(`${problems.length} wrong answers ${JSON.stringify(kinds)}:\n${problems.slice(0, 20).join('\n')}\nreplay: ${plan.replay('control')}`);
  }
  else t.equal(answered, ids.length, `${answered} requests each refused, answered or closed`);
  t.equal(await daemon.alive(true), null, 'the daemon answers xdpfw status');
  t.equal(await daemon.forwards(), null, 'a new flow forwards');
});
