// Readiness, status and watchdog for a service manager (systemd Type=notify),
// spoken over NOTIFY_SOCKET as sd_notify(3) describes. Without NOTIFY_SOCKET
// (started by hand or by `xdpfw load`) every call does nothing.
import { sdNotify } from '../dataplane/native.js';

export interface NotifyEnvironment {
  NOTIFY_SOCKET?: string | undefined;
  WATCHDOG_USEC?: string | undefined;
  WATCHDOG_PID?: string | undefined;
}

export type NotifySend = (socketPath: string, message: string) => void;

/** Milliseconds between WATCHDOG=1 pings: half the manager's timeout, as sd_watchdog_enabled(3) asks; null when off. */
export function watchdogIntervalMs(env: NotifyEnvironment, pid: number): number | null {
  if (!env.NOTIFY_SOCKET || !env.WATCHDOG_USEC) return null;
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited it must not ping.
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return null;
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** One line of status text: newlines would start a new assignment in the datagram. */
function statusLine(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ').slice(0, 1024)}`;
}

export class ServiceNotifier {
  private watchdog: NodeJS.Timeout | null = null;
  private lastError = '';
  private stopSent = false;

  constructor(
    private readonly socketPath: string | null,
    private readonly watchdogMs: number | null,
    private readonly send: NotifySend = sdNotify,
  ) {}

  /**
   * Takes NOTIFY_SOCKET and the watchdog settings out of the environment, so
   * that no process this one starts speaks for it (sd_notify's unset_environment).
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env, pid = process.pid): ServiceNotifier {
    const notifier = new ServiceNotifier(env.NOTIFY_SOCKET || null, watchdogIntervalMs(env, pid));
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    return notifier;
  }

  get enabled(): boolean {
    return this.socketPath !== null;
  }

  /** The dataplane is attached and the slow path serves: the manager may start what depends on us. */
  ready(status: string): void {
    this.notify(`READY=1\n${statusLine(status)}`);
  }

  /** A reload begins (sd_notify(3) RELOADING=1, with the CLOCK_MONOTONIC time it began); ready() ends it. */
  reloading(status: string): void {
    this.notify(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}\n${statusLine(status)}`);
  }

  status(text: string): void {
    this.notify(statusLine(text));
  }

  /** Sent once: the first reason to stop is the one the manager shows. */
  stopping(status: string): void {
    this.stopWatchdog();
    if (this.stopSent) return;
    this.stopSent = true;
    this.notify(`STOPPING=1\n${statusLine(status)}`);
  }

  /**
   * Pings WATCHDOG=1 at half the manager's timeout, from a timer on the event
   * loop that also runs the slow path: a loop that hangs stops the pings and
   * the manager restarts the daemon. `probe` returns the current status line,
   * or throws when the daemon no longer serves, which withholds the ping.
   */
  startWatchdog(probe: () => string): void {
    if (this.socketPath === null || this.watchdogMs === null || this.watchdog) return;
    this.watchdog = setInterval(() => {
      let status: string;
      try {
        status = probe();
      } catch (err) {
        this.status(`watchdog withheld: ${(err as Error).message}`);
        return;
      }
      this.notify(`WATCHDOG=1\n${statusLine(status)}`);
    }, this.watchdogMs);
    this.watchdog.unref(); // the daemon's own sockets keep it running, not this timer
  }

  stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /** A notification that cannot be delivered never stops the firewall; each new reason is logged once. */
  private notify(message: string): void {
    if (this.socketPath === null) return;
    try {
      this.send(this.socketPath, message);
      this.lastError = '';
    } catch (err) {
      const reason = (err as Error).message;
      if (reason !== this.lastError) process.stderr.write(`xdpfw: service notification to ${this.socketPath} failed: ${reason}\n`);
      this.lastError = reason;
    }
  }
}

function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC on Linux
}
