// The expiry schedule: sessions come due in second order, at most a budget
// per call, and stale entries (rescheduled, forgotten) are never returned.
import t from 'tap';
import { ExpirySchedule } from '../../lib/session/expiry.js';

t.test('due ids come out in second order, within the budget', async (t) => {
  const s = new ExpirySchedule(100);
  s.schedule(1, 105);
  s.schedule(2, 102.2); // rounds up: due at 103
  s.schedule(3, 50);    // in the past: due at once
  t.same(s.take(101, 10), [3], 'only what is due by now');
  t.same(s.take(103, 10), [2]);
  t.same(s.take(104, 10), []);
  t.same(s.take(200, 10), [1]);
  t.equal(s.size, 0, 'taken ids leave the schedule');
});

t.test('the budget leaves the rest due for the next call', async (t) => {
  const s = new ExpirySchedule(0);
  for (let id = 1; id <= 5; id++) s.schedule(id, 1);
  s.schedule(6, 2);
  const first = s.take(10, 3);
  t.equal(first.length, 3);
  const rest = s.take(10, 3);
  t.same([...first, ...rest].sort(), [1, 2, 3, 4, 5, 6], 'every id once, none lost');
});

t.test('rescheduled and forgotten ids are not returned from their old second', async (t) => {
  const s = new ExpirySchedule(0);
  s.schedule(1, 10);
  s.schedule(2, 10);
  s.schedule(1, 20);  // found active: later
  s.forget(2);        // closed
  s.schedule(3, 30);
  s.advance(3, 5);    // its timeout shrank
  s.advance(1, 25);   // later than its due time: unchanged
  t.same(s.take(10, 10), [3]);
  t.same(s.take(19, 10), []);
  t.same(s.take(20, 10), [1]);
  t.same(s.take(1000, 10), [], 'nothing stale is left');
});

t.test('hasDue: true while take() would find ids, false once they are taken', async (t) => {
  const s = new ExpirySchedule(10);
  t.notOk(s.hasDue(20), 'empty');
  s.schedule(1, 15);
  t.notOk(s.hasDue(14), 'not yet');
  t.ok(s.hasDue(15));
  t.same(s.take(15, 10), [1]);
  t.notOk(s.hasDue(15), 'taken');
});
