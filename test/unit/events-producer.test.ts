// The producer: rate limits per (kind, zone) on an injected clock, sink queue
// budgets, exact counters, the recent log and subscribers.
import t from 'tap';
import { EventProducer, type KindCounters } from '../../lib/events/producer.js';
import { DEFAULT_EVENT_RATES, type EventRates } from '../../lib/events/rate-limit.js';
import { QueuedSink } from '../../lib/events/sinks/sink.js';
import { EVENT_KINDS, type EventKind, type SecurityEvent } from '../../lib/events/types.js';
import { ALL, CREATE, DENY, FILTER, SCREEN } from './events-fixture.js';

/** A sink that never gets to write: what it takes stays queued. */
class StuckSink extends QueuedSink {
  constructor(capacity: number) {
    super('stuck', () => '', capacity);
  }
  protected drain(): void {}
  protected connected(): boolean {
    return true;
  }
  protected reconnects(): number {
    return 0;
  }
  async close(): Promise<void> {
    this.stop();
  }
}

function rates(overrides: Partial<Record<EventKind, number>>): EventRates {
  return { ...DEFAULT_EVENT_RATES, ...overrides };
}

function balanced(c: KindCounters): boolean {
  return c.generated === c.sent + c.rateLimited + c.queueFull + c.sinkFailed;
}

t.test('rate limits per kind and zone, refilled continuously', async (t) => {
  let now = 0;
  const p = new EventProducer({ rates: rates({ 'policy-deny': 10 }), now: () => now });
  const deny = (zone: number) => p.emit({ ...DENY, ingressZone: zone });
  const burst = Array.from({ length: 15 }, () => deny(1));
  t.same(burst.filter((o) => o === 'sent').length, 10, 'one second worth at once');
  t.equal(deny(2), 'sent', 'another zone has its own bucket');
  t.equal(p.emit(CREATE), 'sent', 'another kind has its own bucket');
  now = 99;
  t.equal(deny(1), 'rate-limited', 'not a whole token after 99 ms at 10/s');
  now = 100;
  t.equal(deny(1), 'sent', 'a token every 100 ms');
  t.equal(deny(1), 'rate-limited');
  now = 350;
  t.same([deny(1), deny(1), deny(1)], ['sent', 'sent', 'rate-limited'], '250 ms: two and a half tokens');
  now = 10_000;
  t.equal(Array.from({ length: 20 }, () => deny(1)).filter((o) => o === 'sent').length, 10, 'a long pause refills one second worth, no more');
  const c = p.counters()['policy-deny'];
  t.same(c, { generated: 42, sent: 24, rateLimited: 18, queueFull: 0, sinkFailed: 0 });
});

t.test('each sink has its own queue budget', async (t) => {
  const small = new StuckSink(3);
  const large = new StuckSink(5);
  const p = new EventProducer({ now: () => 0 });
  p.setSinks([small]);
  const outcomes = Array.from({ length: 5 }, () => p.emit(CREATE));
  t.same(outcomes, ['sent', 'sent', 'sent', 'queue-full', 'queue-full']);
  p.setSinks([small, large]);
  t.equal(p.emit(CREATE), 'sent', 'one sink with room is enough');
  t.same(small.stats().kinds['session-create'], { accepted: 3, written: 0, queueFull: 3, failed: 0 });
  t.same(large.stats().kinds['session-create'], { accepted: 1, written: 0, queueFull: 0, failed: 0 });
  await small.close();
  await large.close();
  t.equal(p.emit(CREATE), 'sink-failed', 'every sink closed');
  t.equal(large.stats().kinds['session-create'].failed, 1, 'closing counts what was still queued');
  t.same(p.counters()['session-create'], { generated: 7, sent: 4, rateLimited: 0, queueFull: 2, sinkFailed: 1 });
});

t.test('a storm of 100,000 events keeps every counter exact', async (t) => {
  let now = 0;
  const sink = new StuckSink(1000);
  const p = new EventProducer({ rates: rates({ 'policy-deny': 1000, 'screen-drop': 50 }), now: () => now });
  p.setSinks([sink]);
  const tally = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) {
    now = i * 0.05; // 100,000 events in 5 s
    const ev: SecurityEvent = i % 10 === 0 ? { ...SCREEN, ingressZone: i % 3 } : { ...DENY, ingressZone: i % 4 };
    const o = p.emit(ev);
    tally.set(o, (tally.get(o) ?? 0) + 1);
    if (i % 9973 === 0) for (const kind of EVENT_KINDS) t.ok(balanced(p.counters()[kind]), `${kind} balanced at ${i}`);
  }
  const c = p.counters();
  for (const kind of EVENT_KINDS) t.ok(balanced(c[kind]), `${kind} balanced at the end`);
  t.equal(c['policy-deny'].generated + c['screen-drop'].generated, 100_000);
  t.equal(c['policy-deny'].sent + c['screen-drop'].sent, 1000, 'the sink took what its budget allows');
  const sum = (f: keyof KindCounters) => EVENT_KINDS.reduce((s, k) => s + c[k][f], 0);
  t.same(
    { sent: tally.get('sent'), limited: tally.get('rate-limited'), full: tally.get('queue-full') },
    { sent: sum('sent'), limited: sum('rateLimited'), full: sum('queueFull') },
    'the counters say what emit() returned',
  );
  // Each zone's bucket passes its rate over the 5 s plus one second of burst (less a
  // fraction of a token at either end).
  const passed = (k: EventKind) => c[k].generated - c[k].rateLimited;
  t.ok(passed('policy-deny') <= 4 * 6000 && passed('policy-deny') > 4 * 5998, `denies through the limiter: ${passed('policy-deny')}`);
  t.ok(passed('screen-drop') <= 3 * 300 && passed('screen-drop') > 3 * 298, `screens through the limiter: ${passed('screen-drop')}`);
  const s = sink.stats().kinds;
  t.equal(s['policy-deny'].accepted + s['policy-deny'].queueFull, c['policy-deny'].sent + c['policy-deny'].queueFull, 'the sink saw every event that passed the limits');
});

t.test('recent events and subscribers', async (t) => {
  const p = new EventProducer({ recentCapacity: 3, now: () => 0 });
  const seen: string[] = [];
  const screens: string[] = [];
  const stop = p.subscribe((ev) => seen.push(ev.kind));
  p.subscribe((ev) => screens.push(ev.kind), new Set(['screen-drop']));
  p.subscribe(() => {
    throw new Error('a broken listener');
  });
  for (const ev of ALL) p.emit(ev);
  stop();
  p.emit(CREATE);
  t.same(seen, ALL.map((e) => e.kind), 'every event until unsubscribed');
  t.same(screens, ['screen-drop'], 'filtered by kind');
  t.same(p.recent().map((e) => e.kind), ['screen-drop', 'filter-log', 'session-create'], 'the last three, oldest first');
  t.same(p.recent(new Set(['filter-log'])), [ALL[4]]);
  t.equal(p.counters()['session-create'].sent, 2, 'without sinks, events count as sent to the log');
});

t.test('rate-limited events reach neither the log nor subscribers', async (t) => {
  const p = new EventProducer({ rates: rates({ 'screen-drop': 1 }), now: () => 0 });
  let heard = 0;
  p.subscribe(() => heard++);
  p.emit(SCREEN);
  p.emit(SCREEN);
  t.equal(heard, 1);
  t.equal(p.recent().length, 1);
});

t.test('events the collectors do not want stay in the local log, counted as sent there', async (t) => {
  const p = new EventProducer();
  const sink = new StuckSink(10);
  p.setSinks([sink]);
  p.setExported((ev) => ev.kind !== 'filter-log' || ev.termId !== FILTER.termId);
  const seen: SecurityEvent[] = [];
  p.subscribe((ev) => seen.push(ev));
  t.equal(p.emit(FILTER), 'sent');
  t.equal(p.emit({ ...FILTER, termId: FILTER.termId + 1 }), 'sent');
  t.equal(sink.stats().queued, 1, 'only the exported event reached the sink');
  t.equal(p.recent().length, 2, 'both are in the local log');
  t.equal(seen.length, 2, 'and reached the subscribers');
  const c = p.counters()['filter-log'];
  t.same({ generated: c.generated, sent: c.sent }, { generated: 2, sent: 2 });
  t.ok(balanced(c), 'generated = sent + rate-limited + queue-full + sink-failed');
  await sink.close();
});
