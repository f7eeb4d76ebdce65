// The active box's sessions, mirrored into the kernel's conntrack table (where
// conntrackd picks them up and ships them to the peer). Driven by a timer, never
// by packets: each sweep reads the session map in one batched dump and writes
// the sessions that are new, changed TCP state, or are due for a timeout
// refresh; closes delete. The writes go through a pipe to dist/bin/xdpfw-ct
// (one ctnetlink send per batch), so the kernel's table work is done in another
// process. The queue is bounded: what does not fit is counted, never waited for.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FLOW_KEY, SESSION, SESSION_KEY } from '../dataplane/layout.js';
import { mapDump } from '../dataplane/native.js';
import { ENTRY, FROM_SERVER, clientTupleOf } from '../session/entry.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../session/flow-key.js';
import type { TcpStateName, TcpStates } from '../session/tcp.js';
import type { Session } from '../session/types.js';
import { CT_DELETE, CT_HELPER, CT_RECORD, CT_UPSERT, MIRROR_MARK_TAG, POLICY_ID_MASK, conntrackTcpState, ctRecordLayoutDiff, encodeCtRecord } from './ct-record.js';

/** How often the session map is swept for what to write. */
export const MIRROR_SWEEP_MS = 1000;
/** A mirrored session's conntrack timeout is rewritten this often while it lives. */
export const MIRROR_REFRESH_S = 30;
/** Records waiting for the helper at most; more are counted as not mirrored. */
export const MIRROR_QUEUE_RECORDS = 65_536;
/** Bytes left in the pipe's user-space buffer beyond which nothing more is handed to it. */
const PIPE_HIGH_BYTES = 1 << 20;
/** Above this share of nf_conntrack_max the table is reported as nearly full. */
const CONNTRACK_FULL_SHARE = 0.9;

export interface MirrorStats {
  /** Sessions written into the conntrack table (new ones; refreshes and state changes apart). */
  mirrored: number;
  refreshed: number;
  deleted: number;
  /** Writes the kernel refused (e.g. table full, nf_conntrack_max): those sessions are not on the peer. */
  kernelErrors: number;
  lastErrno: number;
  /** Records dropped because the queue to the helper was full (a slow kernel or a stuck helper). */
  queueDrops: number;
  /** Sessions of protocols conntrackd cannot carry without ports (ICMP, others): not mirrored. */
  unsupported: number;
  /** Records waiting for the helper now. */
  queued: number;
  /** Sessions the conntrack table holds for us, as far as the mirror knows. */
  tracked: number;
  helperRestarts: number;
  helperError: string | null;
  /** The kernel's table in this namespace: null when nf_conntrack is not loaded. */
  conntrack: { count: number; max: number; nearlyFull: boolean } | null;
}

export interface MirrorOptions {
  mapFd: number;
  tcpStates: TcpStates;
  /** The entry flag of a session to the box (not mirrored: the peer answers its own). */
  localFlag: number;
  /** The idle timeout a session of this protocol (and TCP state) has, seconds. */
  timeoutOf(protocol: number, tcp: TcpStateName | null): number;
  log(line: string): void;
  helper?: string;
  sweepMs?: number;
}

const S = SESSION.offset;
const MIRRORED_TCP: ReadonlySet<TcpStateName> = new Set(['established', 'fin-wait', 'close-wait', 'last-ack']);
/** In `written`: a session of a protocol that is not mirrored. */
const UNSUPPORTED = 14;
const SECONDS = (): number => Math.floor(performance.now() / 1000);

export class SessionMirror {
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly queue = Buffer.alloc(MIRROR_QUEUE_RECORDS * CT_RECORD.size);
  private queued = 0;
  /** Per session id: (second it was written << 4) | TCP state written (15: not TCP; 14: not mirrorable). */
  private readonly written = new Map<number, number>();
  private readonly tuple = Buffer.alloc(SESSION_KEY.size);
  private flushing = false;
  private closed = false;
  private helperTotals = { upserts: 0, upsertErrors: 0, deletes: 0, deleteMissing: 0, deleteErrors: 0, lastErrno: 0 };
  private counts = { mirrored: 0, refreshed: 0, queueDrops: 0, unsupported: 0, helperRestarts: 0 };
  private helperError: string | null = null;
  private warnedFull = false;
  private unsupportedTracked = 0;

  constructor(private readonly o: MirrorOptions) {}

  /** Checks the helper's record layout, starts it and the sweeps. Throws when the helper cannot be used. */
  start(): this {
    const diff = ctRecordLayoutDiff(this.o.helper ?? CT_HELPER);
    if (diff.length) throw new Error(`session mirroring: ${diff.join('; ')}`);
    this.spawnHelper();
    this.timer = setInterval(() => this.sweep(), this.o.sweepMs ?? MIRROR_SWEEP_MS);
    this.timer.unref();
    return this;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.child?.stdin?.end();
    this.child = null;
  }

  private spawnHelper(): void {
    const child = spawn(this.o.helper ?? CT_HELPER, ['mirror'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      const last = lines.at(-1);
      if (last) this.takeTotals(last);
    });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err = (err + chunk).slice(-500); });
    child.stdin!.on('error', () => undefined); // reported by 'exit'
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.helperError = `xdpfw-ct exited (${signal ?? code})${err ? `: ${err.trim()}` : ''}`;
      if (this.closed) return;
      this.o.log(`xdpfw: session mirroring: ${this.helperError}; restarting it`);
      this.counts.helperRestarts++;
      // What it had not written is written again by the next sweeps.
      const { lastErrno: _, ...totals } = this.helperTotals;
      this.base = totals;
      this.written.clear();
      this.unsupportedTracked = 0;
      setTimeout(() => { if (!this.closed) this.spawnHelper(); }, 1000).unref();
    });
  }

  /** The helper's running totals line; a restarted helper starts from zero, so totals are added. */
  private base = { upserts: 0, upsertErrors: 0, deletes: 0, deleteMissing: 0, deleteErrors: 0 };
  private takeTotals(line: string): void {
    const [upserts, upsertErrors, deletes, deleteMissing, deleteErrors, lastErrno] = line.split(' ').map(Number);
    if (upserts === undefined || !Number.isFinite(upserts)) return;
    this.helperTotals = {
      upserts: upserts + this.base.upserts, upsertErrors: upsertErrors! + this.base.upsertErrors,
      deletes: deletes! + this.base.deletes, deleteMissing: deleteMissing! + this.base.deleteMissing,
      deleteErrors: deleteErrors! + this.base.deleteErrors, lastErrno: lastErrno ?? 0,
    };
  }

  /** Told by the session table of every close: a mirrored session's conntrack entry goes. */
  onClose(session: Session): void {
    const was = this.written.get(session.id);
    if (was === undefined) return;
    this.written.delete(session.id);
    if ((was & 15) === UNSUPPORTED) {
      this.unsupportedTracked--;
      return;
    }
    if (!this.enqueue(CT_DELETE, session.key, 0, 0, 0)) return;
    this.scheduleFlush();
  }

  /** One pass over the session map (one batched dump): writes what is new, changed or due. */
  sweep(): void {
    if (this.closed) return;
    let dump;
    try {
      dump = mapDump(this.o.mapFd, FLOW_KEY.size, SESSION.size);
    } catch (err) {
      this.helperError = `session map dump: ${(err as Error).message}`;
      return;
    }
    const now = SECONDS();
    const { keys, values, count } = dump;
    for (let i = 0; i < count; i++) {
      const at = i * SESSION.size;
      if ((values[at + S.flags]! & this.o.localFlag) !== 0) continue;
      const id = Number(values.readBigUInt64LE(at + S.session_id));
      const protocol = keys[i * FLOW_KEY.size + FLOW_KEY.offset.protocol]!;
      const before = this.written.get(id);
      if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) {
        if (before === undefined) {
          this.written.set(id, UNSUPPORTED);
          this.unsupportedTracked++;
          this.counts.unsupported++;
        }
        continue;
      }
      const tcp = protocol === IPPROTO_TCP ? this.o.tcpStates.name(values[at + ENTRY.tcpState]!) : null;
      const state = tcp === null ? 15 : conntrackTcpState(tcp);
      // Only what a failover would keep: TCP past its handshake, UDP once answered. A session
      // that ends before then is never written.
      if (before === undefined && (tcp === null ? values.readBigUInt64LE(at + ENTRY.packets(FROM_SERVER)) === 0n : !MIRRORED_TCP.has(tcp))) continue;
      if (before !== undefined && (before & 15) === state && now - (before >>> 4) < MIRROR_REFRESH_S) continue;
      const tuple = clientTupleOf(keys.subarray(i * FLOW_KEY.size, (i + 1) * FLOW_KEY.size), values[at + S.client_is_first] !== 0, this.tuple);
      const timeout = this.o.timeoutOf(protocol, tcp) + 2 * MIRROR_REFRESH_S;
      const mark = MIRROR_MARK_TAG | (values.readUInt32LE(at + S.policy_id) & POLICY_ID_MASK);
      if (!this.enqueue(CT_UPSERT, tuple, tcp === null ? 0 : state, timeout, mark)) continue;
      if (before === undefined) this.counts.mirrored++;
      else this.counts.refreshed++;
      this.written.set(id, (now << 4) | state);
    }
    this.flush();
    this.checkTable();
  }

  private enqueue(op: number, tuple: Uint8Array, tcpState: number, timeout: number, mark: number): boolean {
    if (this.queued >= MIRROR_QUEUE_RECORDS) {
      this.counts.queueDrops++;
      return false;
    }
    encodeCtRecord(this.queue, this.queued * CT_RECORD.size, op, tuple, tcpState, timeout, mark);
    this.queued++;
    return true;
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => { this.flushing = false; this.flush(); });
  }

  /** Hands the queue to the helper unless the pipe is backed up (then it waits for the next sweep or close). */
  private flush(): void {
    const stdin = this.child?.stdin;
    if (!stdin || this.queued === 0 || stdin.writableLength > PIPE_HIGH_BYTES) return;
    stdin.write(Buffer.from(this.queue.subarray(0, this.queued * CT_RECORD.size)));
    this.queued = 0;
  }

  private checkTable(): MirrorStats['conntrack'] {
    const t = conntrackTable();
    if (t?.nearlyFull && !this.warnedFull) {
      this.o.log(`xdpfw: session mirroring: the conntrack table holds ${t.count} of nf_conntrack_max ${t.max}: raise net.netfilter.nf_conntrack_max or sessions will not reach the peer`);
    }
    this.warnedFull = t?.nearlyFull ?? false;
    return t;
  }

  stats(): MirrorStats {
    const h = this.helperTotals;
    return {
      mirrored: this.counts.mirrored, refreshed: this.counts.refreshed, deleted: h.deletes - h.deleteMissing - h.deleteErrors,
      kernelErrors: h.upsertErrors + h.deleteErrors, lastErrno: h.lastErrno, queueDrops: this.counts.queueDrops,
      unsupported: this.counts.unsupported, queued: this.queued,
      tracked: this.written.size - this.unsupportedTracked,
      helperRestarts: this.counts.helperRestarts, helperError: this.helperError, conntrack: conntrackTable(),
    };
  }
}

/** nf_conntrack's count and limit in this network namespace; null when the module is not loaded. */
export function conntrackTable(): MirrorStats['conntrack'] {
  try {
    const count = Number(readFileSync('/proc/sys/net/netfilter/nf_conntrack_count', 'utf8'));
    const max = Number(readFileSync('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8'));
    return { count, max, nearlyFull: max > 0 && count >= CONNTRACK_FULL_SHARE * max };
  } catch {
    return null;
  }
}
