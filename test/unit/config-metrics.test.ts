// `system services metrics { listen-address A; port P; disable; }`: where the
// Prometheus endpoint listens, and the errors a bad value gets.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { MetricsSettings } from '../../lib/config/types.js';

function metrics(text: string): MetricsSettings {
  const r = compileText(text, 'fw.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.metrics;
}

function errors(text: string): string[] {
  const r = compileText(text, 'fw.conf');
  return r.ok ? [] : r.errors.map(String);
}

t.test('without the statement: loopback, port 9420', async (t) => {
  t.same(metrics(''), { enabled: true, address: '127.0.0.1', port: 9420 });
});

t.test('address, port and disable compile; set form too', async (t) => {
  t.same(metrics('system { services { metrics { listen-address 0.0.0.0; port 9100; } } }'), { enabled: true, address: '0.0.0.0', port: 9100 });
  t.same(metrics('system { services { metrics { listen-address ::1; } } }'), { enabled: true, address: '::1', port: 9420 });
  t.same(metrics('system { services { metrics { disable; } } }'), { enabled: false, address: '127.0.0.1', port: 9420 });
  t.same(metrics('set system services metrics port 9555\nset system services metrics listen-address 10.0.0.1\n'),
    { enabled: true, address: '10.0.0.1', port: 9555 });
});

t.test('bad values are errors at their place', async (t) => {
  t.same(errors('system {\n    services { metrics { listen-address fw.example; port 70000; } }\n}'), [
    "fw.conf:2:41: invalid metrics listen-address 'fw.example': expected an IPv4 or IPv6 address",
    "fw.conf:2:58: invalid metrics port '70000': expected a number from 1 to 65535",
  ]);
  t.match(errors('system { services { metrics { port 0; } } }'), [/^fw\.conf:1:36: invalid metrics port '0'/]);
  t.match(errors('system { services { metrics { listen-on 1.2.3.4; } } }'), [/^fw\.conf:1:31: .*listen-on/]);
});
