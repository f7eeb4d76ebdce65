// The pair's sessions on this box: mirrored into the conntrack table while the
// high-availability stanza is configured (lib/ha/mirror.ts), adopted from it
// when keepalived makes this box active (lib/ha/adopt.ts), and what conntrackd
// holds from the peer, for `show ha` and the metrics.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Zone } from '../config/types.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { TcpStates } from '../session/tcp.js';
import type { SessionTable } from '../session/table.js';
import type { Session } from '../session/types.js';
import type { FlowFilters } from '../slowpath/flow-filters.js';
import type { RouteBatch } from '../slowpath/route-batch.js';
import { type AdoptionReport, adoptEntries, commitExternalCache, dumpMirrored } from './adopt.js';
import { type MirrorStats, SessionMirror } from './mirror.js';
import type { HaConfig } from './types.js';

const run = promisify(execFile);
/** How often conntrackd is asked how many entries it holds from the peer. */
const RECEIVED_POLL_MS = 5000;

export interface HaSessionsStatus {
  /** null: not mirroring (no high-availability stanza, or the helper could not start: mirrorError). */
  mirror: MirrorStats | null;
  mirrorError: string | null;
  /** Entries conntrackd's external cache holds from the peer; null when unknown (no conntrackd config, or it did not answer). */
  received: number | null;
  /** The last adoption (on becoming active), null before the first. */
  adoption: AdoptionReport | null;
  adoptions: number;
  /** Sessions adopted and refused over every adoption since the daemon started. */
  adoptedTotal: number;
  refusedTotal: number;
}

export interface HaSessionsDeps {
  sessions: SessionTable;
  mapFd: number;
  tcpStates: TcpStates;
  localFlag: number;
  routes: RouteBatch;
  /** The running config's judges, read at each adoption (a reload replaces them). */
  judges(): { policies: PolicyEngine; zones: ReadonlyMap<number, Zone>; filters: FlowFilters; logsClose(policyId: number): boolean };
  /** conntrackd's configuration file (`xdpfw load --conntrackd-config`); null: no commit, no received count. */
  conntrackdConfig: string | null;
  log(line: string): void;
}

export class HaSessions {
  private mirror: SessionMirror | null = null;
  private mirrorError: string | null = null;
  private adoption: AdoptionReport | null = null;
  private adoptions = 0;
  private adoptedTotal = 0;
  private refusedTotal = 0;
  private adopting: Promise<void> | null = null;
  private again = false;
  private received: number | null = null;
  private receivedTimer: NodeJS.Timeout | null = null;

  constructor(private readonly d: HaSessionsDeps) {}

  /** Mirroring runs while the config has a high-availability stanza. */
  configure(ha: HaConfig | null): void {
    if (ha && !this.mirror) {
      try {
        this.mirror = new SessionMirror({
          mapFd: this.d.mapFd, tcpStates: this.d.tcpStates, localFlag: this.d.localFlag,
          timeoutOf: (p, tcp) => this.d.sessions.timeoutOf(p, tcp), log: this.d.log,
        }).start();
        this.mirrorError = null;
      } catch (err) {
        this.mirrorError = (err as Error).message;
        this.d.log(`xdpfw: session mirroring not started: ${this.mirrorError}`);
      }
      if (this.d.conntrackdConfig && !this.receivedTimer) {
        this.receivedTimer = setInterval(() => void this.pollReceived(), RECEIVED_POLL_MS);
        this.receivedTimer.unref();
        void this.pollReceived();
      }
    } else if (!ha) {
      this.close();
    }
  }

  onClose(session: Session): void {
    this.mirror?.onClose(session);
  }

  /** keepalived made this box active: commit conntrackd's cache and adopt (one run at a time; a call during a run runs once more after it). */
  becameActive(): Promise<void> {
    if (this.adopting) {
      this.again = true;
      return this.adopting;
    }
    this.adopting = (async () => {
      do {
        this.again = false;
        await this.adopt().catch((err: Error) => this.d.log(`xdpfw: adoption failed: ${err.message}`));
      } while (this.again);
      this.adopting = null;
    })();
    return this.adopting;
  }

  private async adopt(): Promise<void> {
    const t0 = performance.now();
    const conf = this.d.conntrackdConfig;
    const commit = conf ? await commitExternalCache(conf) : null;
    const tCommit = performance.now();
    const entries = await dumpMirrored();
    const j = this.d.judges();
    const r = adoptEntries(entries, { sessions: this.d.sessions, policies: j.policies, zones: j.zones, filters: j.filters, routes: this.d.routes, logsClose: j.logsClose });
    const refused = Object.values(r.refused).reduce((a, b) => a + b, 0);
    this.adoption = {
      at: new Date().toISOString(), committed: commit?.ok ?? null, commitError: commit?.error ?? null, entries: entries.length, ...r,
      commitMs: Math.round(tCommit - t0), durationMs: Math.round(performance.now() - t0),
    };
    this.adoptions++;
    this.adoptedTotal += r.adopted;
    this.refusedTotal += refused;
    this.d.log(`xdpfw: active: ${entries.length} mirrored sessions in the conntrack table${commit ? (commit.ok ? ' after conntrackd\'s commit' : ` (conntrackd's commit failed: ${commit.error})`) : ''}: ` +
      `${r.adopted} adopted, ${r.present} already here, ${refused} refused${refused ? ` (${Object.entries(r.refused).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''} in ${this.adoption.durationMs} ms`);
  }

  private async pollReceived(): Promise<void> {
    try {
      const { stdout } = await run('conntrackd', ['-C', this.d.conntrackdConfig!, '-s', 'cache'], { timeout: 5000 });
      this.received = externalCacheEntries(stdout);
    } catch {
      this.received = null;
    }
  }

  status(): HaSessionsStatus {
    return {
      mirror: this.mirror?.stats() ?? null, mirrorError: this.mirrorError, received: this.received,
      adoption: this.adoption, adoptions: this.adoptions, adoptedTotal: this.adoptedTotal, refusedTotal: this.refusedTotal,
    };
  }

  close(): void {
    this.mirror?.close();
    this.mirror = null;
    if (this.receivedTimer) clearInterval(this.receivedTimer);
    this.receivedTimer = null;
  }
}

/** `conntrackd -s cache`: the external cache's "active objects" (what the peer sent). */
export function externalCacheEntries(text: string): number | null {
  const m = /cache:external\s+active objects:\s+(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}
