// A NOTIFY_SOCKET for tests: test/helpers/notify-listener.py binds a real
// unix datagram socket (with SO_PASSCRED, as systemd does) and reports every
// datagram with its sender's pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { packageRoot } from '../../lib/util/paths.js';

const LISTENER = resolve(packageRoot, 'test', 'helpers', 'notify-listener.py');

export interface Notification {
  /** the sender's pid, from SCM_CREDENTIALS */
  pid: number | null;
  raw: string;
  fields: Record<string, string>;
  /** the listener SIGSTOPped the sender on this READY=1 */
  stopped: boolean;
}

export class NotifyListener {
  readonly received: Notification[] = [];
  private waiters: Array<() => void> = [];
  private exitReason: string | null = null;

  private constructor(readonly path: string, private readonly child: ChildProcess) {}

  /** `path`: a socket path, or '@name' for the abstract namespace (of this network namespace). */
  static async start(path: string, opts: { stopOnReady?: boolean; neverRead?: boolean } = {}): Promise<NotifyListener> {
    const argv = ['python3', LISTENER, path,
      ...(opts.stopOnReady ? ['--stop-on-ready'] : []), ...(opts.neverRead ? ['--never-read'] : [])];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const listener = new NotifyListener(path, child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let partial = '';
    let listening: () => void = () => {};
    const ready = new Promise<void>((r) => (listening = r));
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const msg = JSON.parse(line) as Notification | { listening: string };
        if ('listening' in msg) listening();
        else listener.received.push(msg);
      }
      listener.wake();
    });
    child.once('exit', (code, signal) => {
      listener.exitReason = `notify listener exited (${signal ?? code}): ${stderr}`;
      listening();
      listener.wake();
    });
    await ready;
    if (listener.exitReason) throw new Error(listener.exitReason);
    return listener;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first notification (in arrival order) that `pred` accepts; rejects after `timeoutMs`. */
  async waitFor(what: string, pred: (n: Notification, index: number) => boolean, timeoutMs = 120_000): Promise<Notification> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (this.exitReason) throw new Error(`${what}: ${this.exitReason}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not received within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((n) => n.raw))}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(timer); r(); });
      });
    }
  }

  close(): void {
    this.child.kill('SIGKILL');
  }
}
