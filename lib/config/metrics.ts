import { isIP } from 'node:net';
import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import { child, valueOf } from './tree.js';
import type { MetricsSettings } from './types.js';
import { parseNumber } from './values.js';

/** Loopback only by default: the counters describe the traffic and are nobody else's business. */
export const DEFAULT_METRICS: MetricsSettings = { enabled: true, address: '127.0.0.1', port: 9420 };

/** `system { services { metrics { listen-address A; port P; disable; } } }`: where Prometheus scrapes. */
export function compileMetrics(root: readonly Statement[], d: Diagnostics): MetricsSettings {
  const metrics = child(child(child(root, 'system')?.children, 'services')?.children, 'metrics')?.children;
  const address = child(metrics, 'listen-address');
  const port = child(metrics, 'port');
  let addressText = DEFAULT_METRICS.address;
  if (address) {
    const w = valueOf(address);
    if (isIP(w.text) === 0) d.error(w.pos, `invalid metrics listen-address '${w.text}': expected an IPv4 or IPv6 address`);
    else addressText = w.text;
  }
  const portNumber = port ? parseNumber(d, valueOf(port), 'metrics port', 1, 65535) : null;
  return { enabled: !child(metrics, 'disable'), address: addressText, port: portNumber ?? DEFAULT_METRICS.port };
}
