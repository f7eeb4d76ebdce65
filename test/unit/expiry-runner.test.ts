// Expiry runs in slices with the event loop free between them: a second in
// which thousands of sessions fall due must not hold back packets waiting in
// the AF_XDP ring for the length of the whole run.
import t from 'tap';
import { ExpiryRunner } from '../../lib/session/expiry-runner.js';

/** A table with `due` sessions, recording the budget of each call. */
function table(due: number): { expire(budget: number): void; hasDue(): boolean; calls: number[]; left: () => number } {
  const calls: number[] = [];
  return {
    calls,
    left: () => due,
    expire(budget: number): void {
      calls.push(budget);
      due -= Math.min(due, budget);
    },
    hasDue: () => due > 0,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('a big tick runs in slices, and the loop runs between them', async (t) => {
  const tab = table(1000);
  const runner = new ExpiryRunner(tab, (err) => t.fail(String(err)), 64, 20_000);
  runner.tick();
  t.same(tab.calls, [64], 'one slice at once');
  let between = 0;
  // A callback queued now (as a socket's readiness would be) runs before the rest of the tick.
  setImmediate(() => (between = tab.calls.length));
  while (tab.left() > 0) await turn();
  t.ok(between >= 1 && between <= 2, `the loop ran before the tick ended (after slice ${between} of ${Math.ceil(1000 / 64)})`);
  t.equal(tab.calls.length, Math.ceil(1000 / 64), 'every due session was looked at');
  t.ok(tab.calls.every((b) => b <= 64), 'no slice larger than its bound');
  await turn();
  t.equal(tab.calls.length, Math.ceil(1000 / 64), 'stops when nothing is due');
});

t.test('a tick looks at no more than its budget; a tick already running is not doubled', async (t) => {
  const tab = table(1000);
  const runner = new ExpiryRunner(tab, (err) => t.fail(String(err)), 64, 200);
  runner.tick();
  runner.tick();
  for (let i = 0; i < 10; i++) await turn();
  t.equal(tab.calls.reduce((a, b) => a + b, 0), 200, 'the tick budget');
  runner.tick();
  t.equal(tab.calls.length, 5, 'the next tick starts once the first ended');
});

t.test('an error ends the tick, is reported, and the next tick runs', async (t) => {
  const errors: unknown[] = [];
  let fail = true;
  const runner = new ExpiryRunner({ expire: () => { if (fail) throw new Error('map gone'); }, hasDue: () => false }, (e) => errors.push(e));
  runner.tick();
  t.equal(errors.length, 1);
  fail = false;
  runner.tick();
  t.equal(errors.length, 1, 'ran again without error');
});

t.test('stop: the remaining slices do nothing', async (t) => {
  const tab = table(1000);
  const runner = new ExpiryRunner(tab, (err) => t.fail(String(err)), 64, 20_000);
  runner.tick();
  runner.stop();
  for (let i = 0; i < 5; i++) await turn();
  t.same(tab.calls, [64]);
  runner.tick();
  t.same(tab.calls, [64], 'no tick after stop');
});
