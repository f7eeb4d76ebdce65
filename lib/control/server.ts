// Serves the control socket. Only root or the socket's group may connect:
// the socket is created 0660 inside a 0750 state directory.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { type ControlRequest, type ControlResponse, isControlRequest } from './protocol.js';

export type ControlHandler = (request: ControlRequest) => unknown | Promise<unknown>;

/** Starts a stream for `request`: `send` each line; returns how to stop it. */
export type StreamHandler = (request: Extract<ControlRequest, { command: 'monitor-events' }>, send: (line: string) => void) => () => void;

/** A reader that falls this far behind loses lines rather than grow our memory. */
const MAX_STREAM_BACKLOG = 1 << 20;

const MAX_REQUEST_BYTES = 64 * 1024;

export function serveControl(path: string, handler: ControlHandler, stream: StreamHandler): Promise<Server> {
  if (existsSync(path)) unlinkSync(path); // left by a daemon that was killed
  const server = createServer((conn) => {
    let buffered = '';
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) {
        conn.destroy();
        return;
      }
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      conn.pause();
      const line = buffered.slice(0, nl);
      const req = parseRequest(line);
      if (req && req.command === 'monitor-events') {
        const stop = stream(req, (out) => {
          if (conn.writableLength < MAX_STREAM_BACKLOG) conn.write(`${out}\n`);
        });
        conn.on('close', stop);
        conn.resume(); // to see the client hang up
        return;
      }
      void respond(line).then((res) => conn.end(`${JSON.stringify(res)}\n`));
    });
  });
  function parseRequest(line: string): ControlRequest | null {
    try {
      const req: unknown = JSON.parse(line);
      return isControlRequest(req) ? req : null;
    } catch {
      return null;
    }
  }
  async function respond(line: string): Promise<ControlResponse> {
    try {
      const req: unknown = JSON.parse(line);
      if (!isControlRequest(req)) return { ok: false, error: 'malformed request' };
      return { ok: true, data: await handler(req) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o660);
      resolve(server);
    });
  });
}
