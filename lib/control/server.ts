// Serves the control socket. Only root or the socket's group may connect:
// the socket is created 0660 inside a 0750 state directory.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { type ControlRequest, type ControlResponse, isControlRequest } from './protocol.js';

export type ControlHandler = (request: ControlRequest) => unknown | Promise<unknown>;

const MAX_REQUEST_BYTES = 64 * 1024;

export function serveControl(path: string, handler: ControlHandler): Promise<Server> {
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
      void respond(buffered.slice(0, nl)).then((res) => conn.end(`${JSON.stringify(res)}\n`));
    });
  });
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
