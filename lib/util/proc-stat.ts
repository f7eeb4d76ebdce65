// A process's state, parent and start time from /proc/PID/stat (proc(5)).
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Field 3: R, S, D, T, Z (zombie), X (dead), ... */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 22: clock ticks since boot, kept as text (it only needs comparing). */
  startTime: string;
}

/** undefined when the process is gone or unreadable. */
export function readProcStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  return { state: fields[0] ?? '', ppid: Number(fields[1]), startTime: fields[19] ?? '' };
}
