// Internal errors of the daemon's input loops (a frame in the slow path, a
// batch of XDP events, a session expiry run): each one is counted by the stage
// it broke in and reported to the daemon log at most once per interval and
// stage, with a short digest of what caused it, so that one bad input can
// neither stop the loop nor flood the log.

/** Where an input loop broke: the stages of judging a frame, then the other loops. */
export const FAULT_STAGES = [
  'parse', 'session', 'filter', 'route', 'policy', 'nat', 'reject', 'install', 'event', 'inject',
  'receive', 'xdp-events', 'expiry',
] as const;
export type FaultStage = (typeof FAULT_STAGES)[number];

export const FAULT_LOG_INTERVAL_MS = 10_000;

/** Bytes of a frame a digest shows. */
const DIGEST_BYTES = 48;

export interface FaultOptions {
  /** Where reports go (the daemon log). */
  write?: (line: string) => void;
  intervalMs?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

export class Faults {
  private readonly counts = new Map<FaultStage, number>();
  /** Per stage: when it was last reported, and how many since went unreported. */
  private readonly reported = new Map<FaultStage, { at: number; quiet: number }>();
  private readonly write: (line: string) => void;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(opts: FaultOptions = {}) {
    this.write = opts.write ?? ((line) => void process.stderr.write(line));
    this.intervalMs = opts.intervalMs ?? FAULT_LOG_INTERVAL_MS;
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * Counts an error at `stage`; reports it unless this stage was reported less than an
   * interval ago. `digest` describes the input and is called only to report. Never throws.
   */
  record(stage: FaultStage, err: unknown, digest: () => string): void {
    this.counts.set(stage, (this.counts.get(stage) ?? 0) + 1);
    try {
      const now = this.now();
      const last = this.reported.get(stage);
      if (last && now - last.at < this.intervalMs) {
        last.quiet++;
        return;
      }
      const quiet = last?.quiet ?? 0;
      this.reported.set(stage, { at: now, quiet: 0 });
      const more = quiet > 0 ? ` (${quiet} more at this stage since the last report)` : '';
      this.write(`xdpfw: error at ${stage}, input dropped, loop goes on: ${message(err)}; ${digest()}${more}\n`);
    } catch {
      // Reporting is best effort; the count stands.
    }
  }

  /** Every stage with its count, zeros included: a stable shape for reports and metrics. */
  byStage(): Record<FaultStage, number> {
    const out = {} as Record<FaultStage, number>;
    for (const s of FAULT_STAGES) out[s] = this.counts.get(s) ?? 0;
    return out;
  }
}

function message(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** A frame's digest: where it came in, its length and its first bytes in hex. */
export function frameDigest(bytes: Uint8Array, at: number, length: number, ifindex: number, queue: number): string {
  const start = Math.max(0, Math.min(at, bytes.length));
  const head = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.max(0, Math.min(length, DIGEST_BYTES, bytes.length - start)));
  return `frame of ${length} bytes on ifindex ${ifindex} queue ${queue}: ${head.toString('hex')}${length > head.length ? '...' : ''}`;
}
