// keepalived's notify FIFO (`global_defs { notify_fifo }`): one line per VRRP
// transition, written in order by keepalived itself. Read by the daemon, it
// learns its role without a process started per transition (a notify hook's
// Node.js start-up took 1.4-6.5 s under load, and hooks run in parallel).
import { execFileSync } from 'node:child_process';
import { constants, existsSync, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import type { HaRole } from './keepalived.js';

const STATES: Record<string, HaRole> = { MASTER: 'active', BACKUP: 'backup', FAULT: 'fault', STOP: 'stopped', DELETED: 'stopped' };

/** `INSTANCE "srg1" MASTER 200` → group 1 active; null for other lines (groups, the checker's). */
export function parseNotifyLine(line: string): { group: number; role: HaRole } | null {
  const m = /^INSTANCE "srg(\d+)" ([A-Z]+)\b/.exec(line.trim());
  const role = m ? STATES[m[2]!] : undefined;
  return m && role ? { group: Number(m[1]), role } : null;
}

/** Clock ticks since boot now, the unit of a notify hook's start time: orders FIFO lines after earlier hooks. */
export function ticksNow(): number {
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
}

export class NotifyFifo {
  private socket: Socket | null = null;

  constructor(readonly path: string, private readonly onReport: (group: number, role: HaRole) => void) {}

  /** Creates the FIFO if need be and reads it; held open for writing too, so keepalived's restarts are no end of file. */
  start(): this {
    if (!existsSync(this.path)) execFileSync('mkfifo', ['-m', '0600', this.path]);
    if (!statSync(this.path).isFIFO()) throw new Error(`${this.path} is not a FIFO`);
    const fd = openSync(this.path, constants.O_RDWR | constants.O_NONBLOCK);
    this.socket = new Socket({ fd, readable: true, writable: false });
    this.socket.on('error', () => undefined);
    createInterface({ input: this.socket }).on('line', (line) => {
      const r = parseNotifyLine(line);
      if (r) this.onReport(r.group, r.role);
    });
    return this;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}
