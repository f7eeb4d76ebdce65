// The daemon's pid file, and whether the process it names is really the
// daemon of that state directory. A pid file can outlive its daemon (SIGKILL,
// a crash) and its pid be reused by any other process, or hold anything at
// all: nothing is signalled on its word alone. The file holds the pid on its
// first line (what pid-file readers expect) and the process's start time,
// which a reused pid does not share, on the second.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { readProcStat } from '../util/proc-stat.js';
import { DEFAULT_STATE_DIR, type StatePaths } from './state-paths.js';

export type DaemonIdentity =
  | { kind: 'none' }
  | { kind: 'ours'; pid: number; startTime: string }
  | { kind: 'foreign'; pid: number | null; why: string };

/** Start time of a running process, or undefined if it is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  const stat = readProcStat(pid);
  return stat && stat.state !== 'Z' && stat.state !== 'X' ? stat.startTime : undefined;
}

/** Whether the process that started at startTime still has its pid, a zombie not yet reaped included. */
export function processHoldsPid(pid: number, startTime: string): boolean {
  return readProcStat(pid)?.startTime === startTime;
}

export function writePidFile(paths: StatePaths): void {
  writeFileSync(paths.pidFile, `${process.pid}\n${processStartTime(process.pid) ?? ''}\n`);
}

/**
 * Who the pid file names: nobody (no file), this state directory's daemon
 * (alive, started when the file says, running `xdpfw run` for this state
 * directory), or a process that must be left alone, with the reason.
 */
export function identifyDaemon(paths: StatePaths): DaemonIdentity {
  let text: string;
  try {
    text = readFileSync(paths.pidFile, 'utf8');
  } catch {
    return { kind: 'none' };
  }
  const [pidLine = '', startLine = ''] = text.split('\n');
  if (!/^\d+$/.test(pidLine.trim())) return { kind: 'foreign', pid: null, why: `${paths.pidFile} does not hold a pid` };
  const pid = Number(pidLine.trim());
  if (pid <= 1) return { kind: 'foreign', pid, why: `pid ${pid} is never a daemon's` };
  const started = processStartTime(pid);
  if (started === undefined) return { kind: 'foreign', pid, why: `no process ${pid} runs (the daemon died)` };
  if (startLine.trim() !== '' && startLine.trim() !== started) {
    return { kind: 'foreign', pid, why: `process ${pid} started after the daemon that wrote ${paths.pidFile} (its pid was reused)` };
  }
  const stateDir = daemonStateDir(pid);
  if (stateDir === undefined) return { kind: 'foreign', pid, why: `process ${pid} is not an xdpfw daemon` };
  if (stateDir !== paths.stateDir) return { kind: 'foreign', pid, why: `process ${pid} is the xdpfw daemon of ${stateDir}` };
  return { kind: 'ours', pid, startTime: started };
}

/** The state directory of a process running `xdpfw run`, or undefined if it runs something else. */
function daemonStateDir(pid: number): string | undefined {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
  const script = argv.findIndex((a) => basename(a) === 'xdpfw');
  if (script < 0 || argv[script + 1] !== 'run') return undefined;
  let stateDir = DEFAULT_STATE_DIR;
  for (let i = script + 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--state-dir' && i + 1 < argv.length) stateDir = argv[++i]!;
    else if (a.startsWith('--state-dir=')) stateDir = a.slice('--state-dir='.length);
  }
  if (isAbsolute(stateDir)) return resolve(stateDir);
  try {
    return resolve(readlinkSync(`/proc/${pid}/cwd`), stateDir);
  } catch {
    return undefined;
  }
}
