// Sends one request to the daemon's control socket.
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { ControlRequest, ControlResponse } from './protocol.js';

export class DaemonNotRunning extends Error {}

/** The group that may use the socket (its own, else its directory's), by name if /etc/group knows it. */
function socketGroup(socketPath: string): string | null {
  let gid: number | null = null;
  for (const p of [socketPath, dirname(socketPath)]) {
    try {
      gid = statSync(p).gid;
      break;
    } catch { /* not visible to us: try the directory */ }
  }
  if (gid === null) return null;
  try {
    const entry = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(gid));
    return entry?.[0] ? `'${entry[0]}'` : `gid ${gid}`;
  } catch {
    return `gid ${gid}`;
  }
}

/** The connect error in the operator's words. */
function connectError(socketPath: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new DaemonNotRunning(`no xdpfw daemon is running (no control socket at ${socketPath})`);
  }
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    const group = socketGroup(socketPath);
    return new Error(
      `permission denied on the control socket ${socketPath}: xdpfw needs root, or membership of ` +
        `${group ? `the socket's group ${group}` : "the control socket's group"} (uid ${process.geteuid?.() ?? '?'} has neither)`,
    );
  }
  return err;
}

export function request<T>(socketPath: string, req: ControlRequest, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const conn = connect(socketPath);
    let text = '';
    conn.setEncoding('utf8');
    conn.setTimeout(timeoutMs, () => {
      conn.destroy();
      reject(new Error(`no answer from the daemon at ${socketPath} within ${timeoutMs / 1000} s`));
    });
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('error', (err: NodeJS.ErrnoException) => reject(connectError(socketPath, err)));
    conn.on('end', () => {
      try {
        const res = JSON.parse(text) as ControlResponse<T>;
        if (res.ok) resolve(res.data);
        else reject(new Error(res.error));
      } catch {
        reject(new Error(`garbled answer from the daemon: ${text.slice(0, 200)}`));
      }
    });
  });
}

/** Streams monitor lines to `onLine` until the daemon goes away, a signal, or `onLine` returns false. */
export function monitor(socketPath: string, req: ControlRequest, onLine: (line: string) => void | boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = connect(socketPath);
    let partial = '';
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        // false: the caller has seen enough.
        if (l && onLine(l) === false) {
          conn.destroy();
          return;
        }
      }
    });
    conn.on('error', (err: NodeJS.ErrnoException) => reject(connectError(socketPath, err)));
    conn.on('close', () => resolve());
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => conn.destroy());
  });
}

/**
 * Sends a request whose answer may be streamed: each chunk line (`more: true`) goes to
 * `onChunk`, the socket pausing while its promise is pending (a slow terminal slows the
 * daemon's producer, never grows our memory); resolves with the last line's data.
 */
export function requestStream<T, C>(socketPath: string, req: ControlRequest, onChunk: (chunk: C) => void | Promise<void>, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const conn = connect(socketPath);
    let partial = '';
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      conn.destroy();
      reject(err);
    };
    conn.setEncoding('utf8');
    conn.setTimeout(timeoutMs, () => fail(new Error(`no answer from the daemon at ${socketPath} within ${timeoutMs / 1000} s`)));
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('error', (err: NodeJS.ErrnoException) => fail(connectError(socketPath, err)));
    let pending: Promise<void> = Promise.resolve();
    conn.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        let res: ControlResponse<unknown>;
        try {
          res = JSON.parse(line) as ControlResponse<unknown>;
        } catch {
          return fail(new Error(`garbled answer from the daemon: ${line.slice(0, 200)}`));
        }
        if (!res.ok) return fail(new Error(res.error));
        if (res.more) {
          const r = onChunk(res.data as C);
          if (r instanceof Promise) {
            conn.pause();
            pending = pending.then(() => r).then(() => void conn.resume(), (err: Error) => fail(err));
          }
          continue;
        }
        settled = true;
        void pending.then(() => resolve(res.data as T));
      }
    });
    conn.on('end', () => fail(new Error('the daemon closed the connection before the answer was complete')));
  });
}
