// The route generation and its lease (xdpfw_route_lease, bpf/egress_cache.h):
// XDP forwards an established session by the egress kept in its entry only
// under the current generation and while the lease runs. This module bumps
// the generation after every route, rule, next hop, neighbour, link or
// address change a netlink listener (`ip monitor`, a child process in the
// daemon's network namespace) reports, and renews the lease while that
// listener runs. Fail safe: the lease is only granted once the listener is
// subscribed (its netlink socket is seen bound to groups), and whatever
// stops it (the listener's exit, the daemon's stop or death, an event loop
// too busy to renew) lets the lease run out, after which XDP looks every
// route up again.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROUTE_LEASE } from '../dataplane/layout.js';
import { mapLookup, mapUpdate, monotonicNs } from '../dataplane/native.js';

/** XDPFW_ROUTE_LEASE_TOS of enum xdpfw_route_lease_flags (bpf/egress_cache.h). */
export const ROUTE_LEASE_TOS = 1;

/** Whether `ip -j` output lists a rule or route that selects by TOS (iproute2 names it tos or dsfield). */
export function selectsByTos(json: string): boolean {
  let entries: unknown;
  try {
    entries = JSON.parse(json.trim() === '' ? '[]' : json);
  } catch {
    return true; // unreadable: assume it does
  }
  if (!Array.isArray(entries)) return true;
  return entries.some((e) => {
    if (typeof e !== 'object' || e === null) return false;
    const r = e as Record<string, unknown>;
    const tos = r.tos ?? r.dsfield;
    return tos !== undefined && tos !== 0 && tos !== '0' && tos !== '0x00' && tos !== 'default';
  });
}

/** How long a kept egress may be used after the last renewal. */
export const LEASE_MS = 500;
/** How often the lease is renewed while the listener runs. */
const RENEW_MS = 100;
/** How often the listener's subscription is looked for, and for how long. */
const SUBSCRIBE_POLL_MS = 20;
const SUBSCRIBE_WAIT_MS = 10_000;
/** Before a listener that exited is started again. */
const RESTART_MS = 1000;
const MONITOR_ARGS = ['monitor', 'route', 'rule', 'nexthop', 'neigh', 'link', 'address'];

export interface RouteWatchStats {
  /** The lease is being renewed: kept egresses are in use. */
  leased: boolean;
  generation: number;
  /** Generations written since the start (each a batch of reported changes). */
  bumps: number;
  /** Times the listener stopped and the lease was withdrawn. */
  listenerExits: number;
}

export class RouteWatch {
  private child: ChildProcess | null = null;
  private generation: number;
  private leased = false;
  private bumpQueued = false;
  private closed = false;
  private renewTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private bumps = 0;
  private validUntil = 0n;
  private listenerExits = 0;
  private readonly key = Buffer.alloc(4);
  private readonly value = Buffer.alloc(ROUTE_LEASE.size);
  /**
   * enum xdpfw_route_lease_flags: XDPFW_ROUTE_LEASE_TOS while an IPv4 rule or route selects by
   * TOS (kept next hops do not record the DSCP), and from each new generation until the tables
   * were read (so never a generation whose flag is not known to be clear).
   */
  private leaseFlags = ROUTE_LEASE_TOS;
  /** The generation a TOS check is running for (0: none), and whether another is due after it. */
  private tosCheckFor = 0;
  private tosCheckAgain = false;

  /** leaseFd: xdpfw_route_lease. The generation goes on from the one a previous run left. */
  constructor(private readonly leaseFd: number, private readonly onError: (message: string) => void = () => {}) {
    this.generation = mapLookup(leaseFd, this.key, this.value) ? this.value.readUInt32LE(ROUTE_LEASE.offset.generation) : 0;
    this.write(0n); // no lease until the listener is subscribed
  }

  start(): this {
    if (this.closed || this.child) return this;
    let child: ChildProcess;
    try {
      // setpriv: the listener goes when the daemon goes, however it ends (it execs ip, same pid).
      child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'ip', ...MONITOR_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.listenerStopped(`could not start 'ip monitor': ${(err as Error).message}`);
      return this;
    }
    this.child = child;
    child.stdout?.on('data', () => this.changed());
    child.stderr?.on('data', (d: Buffer) => this.onError(`ip monitor: ${d.toString().trim()}`));
    child.on('error', (err) => this.childGone(child, `'ip monitor' failed: ${err.message}`));
    child.on('exit', (code, signal) => this.childGone(child, `'ip monitor' exited (${signal ?? code})`));
    const since = Date.now();
    this.pollTimer = setInterval(() => {
      if (child.pid !== undefined && subscribed(child.pid)) {
        this.stopPolling();
        this.grant();
      } else if (Date.now() - since > SUBSCRIBE_WAIT_MS) {
        this.stopPolling();
        this.onError('ip monitor never subscribed to route changes: routes are looked up for every packet');
      }
    }, SUBSCRIBE_POLL_MS);
    return this;
  }

  /** Withdraws the lease (XDP looks every route up again) and stops the listener. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.revoke();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = null;
    child?.kill('SIGTERM');
  }

  /** A read of the rules and routes for TOS (leaseFlags) is under way. */
  get checkingTos(): boolean {
    return this.tosCheckFor !== 0;
  }

  /** The listener's process id while it runs. */
  get listenerPid(): number | undefined {
    return this.child?.pid;
  }

  stats(): RouteWatchStats {
    return { leased: this.leased, generation: this.generation, bumps: this.bumps, listenerExits: this.listenerExits };
  }

  /** A change reported: one new generation for all that arrived in this turn of the event loop. */
  private changed(): void {
    if (!this.leased || this.bumpQueued) return;
    this.bumpQueued = true;
    setImmediate(() => {
      this.bumpQueued = false;
      if (this.leased) this.bump();
    });
  }

  /** The listener is subscribed: whatever changed before is covered by a new generation. */
  private grant(): void {
    if (this.closed) return;
    this.leased = true;
    this.bump();
    this.renewTimer = setInterval(() => this.renew(), RENEW_MS);
  }

  private bump(): void {
    this.generation = (this.generation + 1) >>> 0 || 1;
    this.bumps++;
    this.leaseFlags = ROUTE_LEASE_TOS;
    this.extend(monotonicNs());
    this.checkTos();
  }

  /** Reads the IPv4 rules and routes: whether any selects by TOS (see leaseFlags). */
  private checkTos(): void {
    if (this.tosCheckFor !== 0) {
      this.tosCheckAgain = true;
      return;
    }
    const generation = this.generation;
    this.tosCheckFor = generation;
    let pending = 2;
    let selects = false;
    let failed: string | null = null;
    const done = (err: Error | null, out: string): void => {
      if (err) failed ??= err.message;
      else selects ||= selectsByTos(out);
      if (--pending > 0) return;
      this.tosCheckFor = 0;
      if (failed) this.onError(`routing rules could not be read (${failed}): IPv4 routes are looked up for every packet`);
      if (this.closed) return;
      if (this.tosCheckAgain) {
        this.tosCheckAgain = false;
        this.checkTos();
        return;
      }
      // Only for the generation it was read under: a change since bumped again (and checks again).
      if (this.generation !== generation || failed) return;
      this.leaseFlags = selects ? ROUTE_LEASE_TOS : 0;
      if (this.leased) this.write(this.validUntil);
    };
    execFile('ip', ['-4', '-j', 'rule', 'show'], { encoding: 'utf8' }, (err, out) => done(err, out));
    execFile('ip', ['-4', '-j', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }, (err, out) => done(err, out));
  }

  /**
   * A lease that ran out (the event loop was held up longer than the lease)
   * comes back under a new generation: a change reported meanwhile may
   * still wait, unread, behind this timer.
   */
  private renew(): void {
    if (!this.leased) return;
    const now = monotonicNs();
    if (now >= this.validUntil) this.bump();
    else this.extend(now);
  }

  private extend(now: bigint): void {
    this.validUntil = now + BigInt(LEASE_MS) * 1_000_000n;
    this.write(this.validUntil);
  }

  private revoke(): void {
    this.leased = false;
    this.stopPolling();
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    this.write(0n);
  }

  private write(validUntil: bigint): void {
    this.value.fill(0);
    this.value.writeUInt32LE(this.generation, ROUTE_LEASE.offset.generation);
    this.value.writeUInt32LE(this.leaseFlags, ROUTE_LEASE.offset.flags);
    this.value.writeBigUInt64LE(validUntil, ROUTE_LEASE.offset.valid_until_ns);
    try {
      mapUpdate(this.leaseFd, this.key, this.value);
    } catch (err) {
      this.onError(`xdpfw_route_lease could not be written: ${(err as Error).message}`);
    }
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private childGone(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = null;
    this.listenerStopped(why);
  }

  private listenerStopped(why: string): void {
    this.revoke();
    if (this.closed) return;
    this.listenerExits++;
    this.onError(`${why}: routes are looked up for every packet until it runs again`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, RESTART_MS);
  }
}

/**
 * Whether process `pid` holds a NETLINK_ROUTE socket bound to multicast
 * groups (/proc/net/netlink of this network namespace: sk Eth Pid Groups ...).
 * The first netlink socket of a process gets its pid as port id.
 */
export function subscribed(pid: number): boolean {
  let text: string;
  try {
    text = readFileSync('/proc/net/netlink', 'utf8');
  } catch {
    return false;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 4 && f[1] === '0' && Number(f[2]) === pid && /[1-9a-f]/i.test(f[3]!)) return true;
  }
  return false;
}
