// What the runner asks of a namespace agent (tools/agent.ts), one JSON line
// each way. XDP attachment, ifindexes and BPF_PROG_RUN ingress all resolve
// in the caller's network namespace, so each namespace gets its own agent.

/** Benchmark BPF programs by object and function name. */
export const PROGRAMS = {
  sink: { object: 'bench/sink', prog: 'sink_count' },
  drop: { object: 'bench/sink', prog: 'bare_drop' },
  fwd: { object: 'bench/fwd', prog: 'min_fwd' },
  pass: { object: 'xdp_pass', prog: 'xdp_pass' },
} as const;
export type ProgramName = keyof typeof PROGRAMS;

/** A generator run: `frames` copies of an IPv4/UDP template, flow by flow. */
export interface GenSpec {
  /** Frames leave through this interface (the generator's "ingress"). */
  ifname: string;
  /** The template frame, hex; its MAC addresses are kept. */
  frame: string;
  frames: number;
  /** Frames per second; 0 sends as fast as the CPU goes. */
  rate: number;
  /** Flow n has source port portBase + n % ports and source address addrBase + n / ports. */
  flows: number;
  ports: number;
  portBase: number;
  /** IPv4 address as an unsigned 32-bit number. */
  addrBase: number;
  /** Flow number of the first frame (runs that must not repeat flows start further on). */
  firstFlow: number;
}

export interface GenResult {
  sent: number;
  seconds: number;
}

export type AgentRequest =
  | { op: 'attach'; ifname: string; program: ProgramName }
  | { op: 'detach'; ifname: string }
  | { op: 'count'; ifname: string }
  | { op: 'gen'; spec: GenSpec };

export type AgentReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
