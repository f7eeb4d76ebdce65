// sdNotify against a real unix datagram socket (bound by a separate python
// listener, as a service manager would): the exact bytes arrive, from this
// process, to a path or an abstract name; failures are clear errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { NativeError, sdNotify } from '../../lib/dataplane/native.js';
import { ServiceNotifier, watchdogIntervalMs } from '../../lib/service/sd-notify.js';
import { NotifyListener } from '../helpers/notify-socket.js';
import { thrown } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'xdpfw-notify-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a datagram to a socket path arrives whole, sent by this process', async (t) => {
  const path = join(dir, 'notify.sock');
  const listener = await NotifyListener.start(path);
  t.teardown(() => listener.close());
  sdNotify(path, 'READY=1\nSTATUS=filtering on trust0');
  const n = await listener.waitFor('READY=1', (m) => m.fields.READY === '1');
  t.equal(n.raw, 'READY=1\nSTATUS=filtering on trust0', 'the exact bytes, one datagram');
  t.equal(n.pid, process.pid, 'SCM_CREDENTIALS name the sender itself (NotifyAccess=main)');
  t.same(n.fields, { READY: '1', STATUS: 'filtering on trust0' });
});

t.test('an @name reaches the abstract namespace', async (t) => {
  const name = `@xdpfw-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const listener = await NotifyListener.start(name);
  t.teardown(() => listener.close());
  sdNotify(name, 'WATCHDOG=1');
  t.equal((await listener.waitFor('WATCHDOG=1', (m) => m.fields.WATCHDOG === '1')).pid, process.pid);
});

t.test('no listener, or a name that is no socket address: a clear error', (t) => {
  const missing = thrown(() => sdNotify(join(dir, 'nobody.sock'), 'READY=1'));
  t.equal(missing.code, 'ENOENT');
  t.match(missing.message, /^sdNotify: .*nobody\.sock/);
  t.equal(thrown(() => sdNotify('relative/path', 'READY=1')).code, 'EINVAL', 'neither absolute nor @abstract');
  t.equal(thrown(() => sdNotify(`/${'x'.repeat(120)}`, 'READY=1')).code, 'EINVAL', 'longer than sun_path');
  t.equal(thrown(() => sdNotify(join(dir, 'x.sock'), '')).code, 'EINVAL', 'empty message');
  t.end();
});

t.test('a manager that reads nothing: once its queue is full, EAGAIN instead of a stalled daemon', async (t) => {
  const path = join(dir, 'stuck.sock');
  const listener = await NotifyListener.start(path, { neverRead: true });
  t.teardown(() => listener.close());
  let sent = 0;
  let error: NativeError | null = null;
  // A blocking send would hang here, with the event loop, on the first datagram past the queue.
  for (; sent < 100_000 && error === null; sent++) {
    try {
      sdNotify(path, 'WATCHDOG=1');
    } catch (e) {
      if (!(e instanceof NativeError)) throw e;
      error = e;
    }
  }
  t.equal(error?.code, 'EAGAIN', `refused after ${sent - 1} queued datagrams`);
  t.ok(sent > 1, 'the queue took datagrams first');
});

t.test('the watchdog interval is half of WATCHDOG_USEC, and only for the process it names', (t) => {
  t.equal(watchdogIntervalMs({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '30000000' }, 42), 15_000);
  t.equal(watchdogIntervalMs({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  t.equal(watchdogIntervalMs({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42), null, 'meant for another process');
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), null, 'no socket to ping');
  t.equal(watchdogIntervalMs({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: 'soon' }, 42), null);
  t.equal(watchdogIntervalMs({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '0' }, 42), null);
  t.end();
});

t.test('ServiceNotifier: takes its settings out of the environment, pings while the probe answers, stops once', async (t) => {
  const path = join(dir, 'service.sock');
  const listener = await NotifyListener.start(path);
  t.teardown(() => listener.close());
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid), KEEP: '1' };
  const service = ServiceNotifier.fromEnvironment(env);
  t.same(env, { KEEP: '1' }, 'children started later cannot speak for the daemon');
  t.ok(service.enabled);

  service.ready('up\nwith a newline');
  t.equal((await listener.waitFor('READY', (m) => m.fields.READY === '1')).raw, 'READY=1\nSTATUS=up with a newline',
    'a status stays one assignment');
  let healthy = true;
  let probes = 0;
  service.startWatchdog(() => {
    probes++;
    if (!healthy) throw new Error('slow path gone');
    return `probe ${probes}`;
  });
  await listener.waitFor('three pings', (m) => m.fields.WATCHDOG === '1' && m.fields.STATUS === 'probe 3');
  healthy = false;
  const withheld = await listener.waitFor('withheld', (m) => m.fields.STATUS === 'watchdog withheld: slow path gone');
  t.notOk('WATCHDOG' in withheld.fields, 'a failing probe sends no ping, only why');
  const pingsBefore = listener.received.filter((m) => m.fields.WATCHDOG === '1').length;
  healthy = true;
  const resumed = await listener.waitFor('resumed', (m, i) => m.fields.WATCHDOG === '1' && i > listener.received.indexOf(withheld));
  t.ok(resumed, 'pings resume once the probe answers again');
  t.ok(pingsBefore >= 3);

  service.stopping('stopping on SIGTERM');
  service.stopping('stopped');
  const stop = await listener.waitFor('STOPPING', (m) => m.fields.STOPPING === '1');
  t.equal(stop.fields.STATUS, 'stopping on SIGTERM', 'the first reason is the one shown');
  const afterStop = listener.received.indexOf(stop);
  // Several watchdog intervals later, a marker: nothing may have come between.
  await new Promise((r) => setTimeout(r, 1000));
  sdNotify(path, 'X-MARKER=1');
  await listener.waitFor('marker', (m) => m.fields['X-MARKER'] === '1');
  t.same(listener.received.slice(afterStop + 1).map((m) => m.raw), ['X-MARKER=1'],
    'no second STOPPING, and no pings after it');
});

t.test('ServiceNotifier without NOTIFY_SOCKET does nothing, and a lost manager does not throw', (t) => {
  const off = ServiceNotifier.fromEnvironment({});
  t.notOk(off.enabled);
  off.ready('x');
  off.startWatchdog(() => 'x');
  off.stopping('x');
  const lost = ServiceNotifier.fromEnvironment({ NOTIFY_SOCKET: join(dir, 'gone.sock') });
  t.doesNotThrow(() => lost.ready('x'), 'the firewall keeps running without its manager');
  t.end();
});
