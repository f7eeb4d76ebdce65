import type { Statement, Word } from './ast.js';
import type { Diagnostics } from './errors.js';
import { parsePrefix } from './ip.js';
import { child, each, valueOf } from './tree.js';
import type { SyslogFormat, SyslogHost, SyslogSettings, SyslogTransport } from './types.js';
import { parseNumber } from './values.js';

/** `system { host-name N; syslog { host A { port P; transport T; format F; } file-json PATH; rate-limit N; } }`. */

const SYSLOG_DEFAULTS = { port: 514, transport: 'udp', format: 'structured' } as const;

const TRANSPORTS: readonly SyslogTransport[] = ['udp', 'tcp'];
const FORMATS: readonly SyslogFormat[] = ['structured', 'brief', 'rfc3164'];
const MAX_RATE = 1_000_000;

/** RFC 1123 host name (it becomes the HOSTNAME of every syslog line, where no space may appear). */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$/;

export function compileSystem(root: readonly Statement[], d: Diagnostics): SyslogSettings {
  const system = child(root, 'system')?.children;
  const syslog = child(system, 'syslog')?.children;
  const hostName = child(system, 'host-name');
  const jsonFile = child(syslog, 'file-json');
  const rate = child(syslog, 'rate-limit');
  return {
    hostName: hostName ? checked(d, valueOf(hostName), HOST_NAME.test(valueOf(hostName).text), 'host-name', 'use letters, digits, hyphens, underscores and dots (RFC 1123, and the underscore Junos allows)') : null,
    hosts: each(syslog, 'host').flatMap((h) => host(h, d) ?? []),
    jsonFile: jsonFile ? checked(d, valueOf(jsonFile), /^\/[^\0]*$/.test(valueOf(jsonFile).text), 'file-json path', 'expected an absolute path') : null,
    rateLimit: rate ? parseNumber(d, valueOf(rate), 'syslog rate-limit', 1, MAX_RATE) : null,
  };
}

function host(h: Statement, d: Diagnostics): SyslogHost | null {
  const address = h.words[1];
  const isAddress = !address.text.includes('/') && typeof parsePrefix(address.text) === 'object';
  if (!isAddress) d.error(address.pos, `invalid syslog host '${address.text}': expected an IPv4 or IPv6 address`);
  const port = setting(h, 'port', (w) => parseNumber(d, w, 'syslog port', 1, 65535), SYSLOG_DEFAULTS.port);
  const transport = setting(h, 'transport', (w) => oneOf(d, w, 'transport', TRANSPORTS), SYSLOG_DEFAULTS.transport);
  const format = setting(h, 'format', (w) => oneOf(d, w, 'format', FORMATS), SYSLOG_DEFAULTS.format);
  if (!isAddress || port === null || transport === null || format === null) return null;
  return { address: address.text, port, transport, format };
}

/** The value of `keyword` inside `h`, read by `read` (null after an error), or the default. */
function setting<T>(h: Statement, keyword: string, read: (w: Word) => T | null, fallback: T): T | null {
  const s = child(h.children, keyword);
  return s ? read(valueOf(s)) : fallback;
}

function oneOf<T extends string>(d: Diagnostics, w: Word, what: string, allowed: readonly T[]): T | null {
  if ((allowed as readonly string[]).includes(w.text)) return w.text as T;
  d.error(w.pos, `invalid ${what} '${w.text}': expected one of: ${allowed.join(', ')}`);
  return null;
}

function checked(d: Diagnostics, w: Word, ok: boolean, what: string, hint: string): string | null {
  if (!ok) d.error(w.pos, `invalid ${what} '${w.text}': ${hint}`);
  return ok ? w.text : null;
}
