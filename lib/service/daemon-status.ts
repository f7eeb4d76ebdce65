// The daemon's one-line status for the service manager (`systemctl status`).
import type { StatusReport } from '../daemon/reports.js';

/** What `systemctl status` shows: where the daemon filters and how full the session table is. */
export function serviceStatusLine(s: StatusReport): string {
  const ifaces = s.interfaces.map((i) => `${i.name} (${i.xdpMode}, ${i.queues.length} queue${i.queues.length === 1 ? '' : 's'})`);
  return `filtering on ${ifaces.join(', ') || 'no interfaces'}; ${s.sessions.active}/${s.sessions.max} sessions`;
}
