// Sends one request to the daemon's control socket.
import { connect } from 'node:net';
import type { ControlRequest, ControlResponse } from './protocol.js';

export class DaemonNotRunning extends Error {}

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
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new DaemonNotRunning(`no xdpfw daemon is running (no control socket at ${socketPath})`));
      } else reject(err);
    });
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

/** Streams monitor-events lines to `onLine` until the daemon goes away or `signal` aborts. */
export function monitor(socketPath: string, req: ControlRequest, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = connect(socketPath);
    let partial = '';
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l) onLine(l);
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new DaemonNotRunning(`no xdpfw daemon is running (no control socket at ${socketPath})`));
      } else reject(err);
    });
    conn.on('close', () => resolve());
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => conn.destroy());
  });
}
