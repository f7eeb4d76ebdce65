// A running daemon for the fuzz targets that need one: the test topology
// with the fuzz configuration loaded, a UDP echo server behind it, and the
// checks every target ends with (the daemon answers `status`, a normal
// flow still forwards), each returning what is wrong or null.
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { ADDR, Topology } from '../helpers/topology.js';
import { FILTER_PORTS, fuzzDaemonConfig } from './daemon-config.js';

export class FuzzDaemon {
  private sport = 42000;

  private constructor(readonly topo: Topology, readonly configPath: string) {}

  static async start(config = fuzzDaemonConfig()): Promise<FuzzDaemon> {
    const topo = await Topology.create();
    try {
      const path = topo.writeConfig(config);
      const r = await topo.xdpfw(['load', '-c', path]);
      if (r.code !== 0) throw new Error(`load: ${r.stderr}`);
      await topo.startTraffic('server', ['udp-echo', '--port', String(FILTER_PORTS.echo)]);
      return new FuzzDaemon(topo, path);
    } catch (err) {
      await topo.destroy();
      throw err;
    }
  }

  get socket(): string {
    return statePaths(this.topo.stateDir).socket;
  }

  /** The end of the daemon's log: where a crash leaves its stack. */
  logTail(lines = 30): string {
    try {
      return readFileSync(statePaths(this.topo.stateDir).logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no daemon log)';
    }
  }

  /** null if `xdpfw status` answers (by the CLI with `cli`, else straight on the control socket: cheaper). */
  async alive(cli = false): Promise<string | null> {
    if (!cli) {
      const r = await this.request<unknown>({ command: 'status' }).catch((err: Error) => err);
      return r instanceof Error ? `status failed: ${r.message}\n--- daemon log ---\n${this.logTail()}` : null;
    }
    const r = await this.topo.xdpfw(['status', '--json'], 30_000);
    return r.code === 0 ? null : `status failed (${r.code}): ${r.stderr.trim()}\n--- daemon log ---\n${this.logTail()}`;
  }

  /** One request on the control socket; its data, or an Error with the daemon's message. */
  request<T>(req: object, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const conn = createConnection(this.socket);
      let data = '';
      const timer = setTimeout(() => {
        conn.destroy();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      conn.setEncoding('utf8');
      conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
      conn.on('data', (d: string) => (data += d));
      conn.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`${err.message}: the daemon is gone\n--- daemon log ---\n${this.logTail()}`));
      });
      conn.on('close', () => {
        clearTimeout(timer);
        try {
          const res = JSON.parse(data) as { ok: boolean; data?: T; error?: string };
          if (res.ok) resolve(res.data as T);
          else reject(new Error(res.error));
        } catch {
          reject(new Error(`not a response: ${data.slice(0, 200)}`));
        }
      });
    });
  }

  /** null if a new UDP flow to the server forwards both ways, over IPv4 and IPv6. */
  async forwards(): Promise<string | null> {
    for (const host of [ADDR.server4, ADDR.server6]) {
      const sport = String(this.sport++);
      const r = await this.topo.traffic<{ sent: number; received: number }>('client', [
        'udp-ping', '--host', host, '--port', String(FILTER_PORTS.echo), '--sport', sport, '--count', '3', '--interval', '20', '--timeout', '3000',
      ]).catch((err: Error) => ({ sent: 3, received: -1, error: err.message }));
      if (r.received !== 3) return `a new flow to ${host} got ${r.received} of 3 echoes back ${JSON.stringify(r)}`;
    }
    return null;
  }

  /** What `show config` prints (asked on the control socket). */
  async showConfig(): Promise<string> {
    return (await this.request<{ text: string }>({ command: 'show-config', format: 'hierarchical' })).text;
  }

  destroy(): Promise<void> {
    return this.topo.destroy();
  }
}
