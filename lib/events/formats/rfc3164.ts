// RFC 3164 (BSD syslog): the brief text form behind the PRI a Junos device
// would send, which is what an SRX forwards to a plain syslog host.
import type { SecurityEvent } from '../types.js';
import { formatBrief } from './brief.js';
import type { FormatContext } from './context.js';
import { header } from './junos.js';

export function formatRfc3164(ev: SecurityEvent, ctx: FormatContext): string {
  return `<${header(ev).pri}>${formatBrief(ev, ctx)}`;
}
