// Serves the control socket. Only root or the socket's group may connect:
// the socket is created 0660 inside a 0750 state directory. Nothing a client
// sends can stop the daemon: a request that is not one line of JSON matching
// its command's schema is answered {ok:false,error}, counted, and has no
// other effect.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { type ControlRequest, type ControlResponse, MAX_REQUEST_CHARS, parseRequest } from './protocol.js';
import { ReaderGone, StreamedAnswer } from './streamed.js';

export type ControlHandler = (request: ControlRequest) => unknown | Promise<unknown>;

/** The requests answered by a stream of lines rather than one answer. */
export type StreamRequest = Extract<ControlRequest, { command: 'monitor-events' | 'monitor-packet-drop' }>;

/** Starts a stream for `request`: `send` each line; returns how to stop it. Throws if it cannot start. */
export type StreamHandler = (request: StreamRequest, send: (line: string) => void) => () => void;

export interface ControlStats {
  /** Requests refused as malformed: not JSON, too long, unknown command, fields not matching the schema. */
  rejected: number;
}

/** A reader that falls this far behind loses lines rather than grow our memory. */
const MAX_STREAM_BACKLOG = 1 << 20;

/** A streamed answer waits for the reader once this much is unsent. */
const STREAM_HIGH_WATER = 256 * 1024;
/** ... and gives up on one that took nothing for this long. */
const STREAM_STALL_MS = 10 * 60_000;

/** A client has this long to send its request line (and, once refused, to go away). */
const REQUEST_TIMEOUT_MS = 30_000;

export function serveControl(path: string, handler: ControlHandler, stream: StreamHandler, stats: ControlStats = { rejected: 0 }): Promise<Server> {
  if (existsSync(path)) unlinkSync(path); // left by a daemon that was killed
  const server = createServer((conn) => {
    let buffered = '';
    /** The request line was read (or refused): later input is ignored. */
    let read = false;
    conn.setEncoding('utf8');
    conn.setTimeout(REQUEST_TIMEOUT_MS, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    const refuse = (error: string, counted = true): void => {
      read = true;
      if (counted) stats.rejected++;
      // What the client still sends is read and dropped until it hangs up or the timeout ends it.
      conn.end(`${JSON.stringify({ ok: false, error } satisfies ControlResponse)}\n`);
    };
    conn.on('data', (chunk: string) => {
      if (read) return;
      try {
        buffered += chunk;
        const nl = buffered.indexOf('\n');
        if (nl > MAX_REQUEST_CHARS || (nl < 0 && buffered.length > MAX_REQUEST_CHARS)) {
          buffered = '';
          return refuse(`request line longer than ${MAX_REQUEST_CHARS} characters`);
        }
        if (nl < 0) return;
        const checked = parseRequest(buffered.slice(0, nl));
        buffered = '';
        if (!checked.ok) return refuse(checked.error);
        read = true;
        conn.setTimeout(0);
        serve(conn, checked.request);
      } catch (err) {
        refuse(`internal error: ${err instanceof Error ? err.message : String(err)}`, false);
      }
    });
  });

  function serve(conn: Socket, req: ControlRequest): void {
    if (req.command === 'monitor-events' || req.command === 'monitor-packet-drop') {
      let stop: () => void;
      try {
        stop = stream(req, (out) => {
          if (conn.writableLength < MAX_STREAM_BACKLOG) conn.write(`${out}\n`);
        });
      } catch (err) {
        conn.end(`${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) } satisfies ControlResponse)}\n`);
        return;
      }
      conn.on('close', stop);
      return; // reading on, to see the client hang up
    }
    conn.pause();
    void respond(req).then((res) => {
      if (res.ok && res.data instanceof StreamedAnswer) void streamAnswer(conn, res.data);
      else conn.end(`${encode(res)}\n`);
    });
  }

  async function respond(req: ControlRequest): Promise<ControlResponse> {
    try {
      return { ok: true, data: await handler(req) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o660);
      // Later errors (a failed accept when out of descriptors) cost a connection, not the daemon.
      server.removeListener('error', reject);
      server.on('error', (err) => void process.stderr.write(`xdpfw: control socket: ${err.message}\n`));
      resolve(server);
    });
  });
}

function encode(res: ControlResponse): string {
  try {
    return JSON.stringify(res);
  } catch (err) {
    return JSON.stringify({ ok: false, error: `the answer could not be encoded: ${(err as Error).message}` } satisfies ControlResponse);
  }
}

/** Sends a streamed answer's chunks as they come, waiting for a slow reader; stops when it hangs up. */
async function streamAnswer(conn: Socket, answer: StreamedAnswer): Promise<void> {
  let gone = false;
  conn.once('close', () => (gone = true));
  // A reader that stops reading altogether does not hold the producer (and its place in the table) for ever.
  conn.setTimeout(STREAM_STALL_MS, () => conn.destroy());
  const write = async (chunk: unknown): Promise<void> => {
    if (gone) throw new ReaderGone();
    conn.write(`${encode({ ok: true, more: true, data: chunk })}\n`);
    if (conn.writableLength <= STREAM_HIGH_WATER) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        conn.off('drain', done);
        conn.off('close', done);
        resolve();
      };
      conn.on('drain', done);
      conn.on('close', done);
    });
    if (gone) throw new ReaderGone();
  };
  let last: ControlResponse;
  try {
    last = { ok: true, data: await answer.run(write) };
  } catch (err) {
    if (err instanceof ReaderGone || gone) return;
    last = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  if (!gone) conn.end(`${encode(last)}\n`);
}
