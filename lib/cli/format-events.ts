// One line per security event for people (`xdpfw monitor events`, `xdpfw show log`);
// --json prints the daemon's JSON lines as they are.

/** The fields of an event's JSON form (lib/events/formats/json.ts) that the line (and tests) read. */
export interface EventJson {
  kind: string;
  timestamp: string;
  tag: string;
  protocol: number;
  protocolName: string;
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  sourceZone: string | null;
  destinationZone?: string | null;
  ingressInterface: string | null;
  policy?: string | null;
  action?: string;
  reasonText?: string;
  attackName?: string;
  /** screen-drop: the screen's name. */
  screen?: string;
  filter?: string | null;
  term?: string | null;
  filterSource?: string;
  sessionId?: number;
}

function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export function formatEventLine(e: EventJson): string {
  const parts = [
    e.timestamp, e.tag, e.protocolName,
    `${endpoint(e.sourceAddress, e.sourcePort)} -> ${endpoint(e.destinationAddress, e.destinationPort)}`,
    `zones ${e.sourceZone ?? '-'}->${e.destinationZone ?? '-'}`,
    `if ${e.ingressInterface ?? '-'}`,
  ];
  if (e.sessionId) parts.push(`session ${e.sessionId}`);
  if (e.policy) parts.push(`policy ${e.policy}`);
  if (e.attackName) parts.push(`attack "${e.attackName}"`);
  if (e.filter || e.filterSource) parts.push(`filter ${e.filter ?? '-'} term ${e.term ?? '-'} (${e.filterSource ?? '-'})`);
  if (e.action) parts.push(e.action);
  if (e.reasonText) parts.push(`reason ${e.reasonText}`);
  return parts.join('  ');
}
