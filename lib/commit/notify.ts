// Commit operations, logged where an operator looks: the daemon's log, the
// JSON event file (one object, kind "commit") and the UDP syslog collectors
// (one line with the Junos mgd tag, in the host's format). TCP collectors
// carry security events only. Sending never blocks and never throws.
import { appendFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import type { SyslogSettings } from '../config/types.js';
import type { CommitNotice } from './commits.js';

/** The Junos management daemon's tag for each operation. */
export const COMMIT_TAGS: Readonly<Record<CommitNotice['action'], string>> = {
  'commit': 'UI_COMMIT',
  'commit-confirmed': 'UI_COMMIT_CONFIRMED',
  'confirm': 'UI_COMMIT',
  'rollback': 'UI_LOAD_EVENT',
  'automatic-rollback': 'UI_COMMIT_CONFIRMED_TIMED',
  'automatic-rollback-failed': 'UI_COMMIT_CONFIRMED_TIMED',
};

/** user.notice (1 * 8 + 5), as mgd logs commits. */
const PRI = 13;

export function commitLine(n: CommitNotice, format: 'structured' | 'brief' | 'rfc3164', hostname: string, now: Date): string {
  const tag = COMMIT_TAGS[n.action];
  if (format === 'structured') return `<${PRI}>1 ${now.toISOString()} ${hostname} mgd ${process.pid} ${tag} - ${n.message}`;
  const month = now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const stamp = `${month} ${String(now.getUTCDate()).padStart(2, ' ')} ${now.toISOString().slice(11, 19)}`;
  return `<${PRI}>${stamp} ${hostname} mgd[${process.pid}]: ${tag}: ${n.message}`;
}

export function commitJson(n: CommitNotice, hostname: string, now: Date): string {
  return JSON.stringify({
    timestamp: now.toISOString(), hostname, kind: 'commit', tag: COMMIT_TAGS[n.action],
    action: n.action, commit: n.commit, rollbackOf: n.rollbackOf, source: n.source, message: n.message,
  });
}

export function notifyCommit(n: CommitNotice, syslog: SyslogSettings, hostname: string): void {
  const now = new Date();
  process.stderr.write(`xdpfw: ${COMMIT_TAGS[n.action]}: ${n.message}\n`);
  if (syslog.jsonFile !== null) {
    try {
      // One write of one line with O_APPEND: it does not interleave with the event sink's lines.
      appendFileSync(syslog.jsonFile, `${commitJson(n, hostname, now)}\n`);
    } catch (err) {
      process.stderr.write(`xdpfw: writing the commit to ${syslog.jsonFile}: ${(err as Error).message}\n`);
    }
  }
  for (const h of syslog.hosts) {
    if (h.transport !== 'udp') continue;
    const sock = createSocket(h.address.includes(':') ? 'udp6' : 'udp4');
    sock.on('error', () => sock.close());
    sock.send(commitLine(n, h.format, hostname, now), h.port, h.address, () => sock.close());
  }
}
