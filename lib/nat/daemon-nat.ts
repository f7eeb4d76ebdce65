// What the daemon asks of NAT at start and reload: the source NAT of a config, and the log line
// of a flow refused for want of a translation (rate-limited: a full pool refuses every flow).
import type { CompiledConfig } from '../config/types.js';
import type { FlowTuple } from '../session/flow-key.js';
import { SourceNat } from './source-nat.js';

export function sourceNatOf(config: CompiledConfig): SourceNat | null {
  return config.nat ? new SourceNat(config.nat) : null;
}

const LOG_INTERVAL_MS = 10_000;

export function natRefusalLog(write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): (flow: FlowTuple, rule: string, pool: string | null, message: string) => void {
  let last = -Infinity;
  let quiet = 0;
  return (flow, rule, pool, message) => {
    const now = Date.now();
    if (now - last < LOG_INTERVAL_MS) {
      quiet++;
      return;
    }
    last = now;
    const more = quiet > 0 ? ` (${quiet} more refused since the last report)` : '';
    quiet = 0;
    write(`xdpfw: nat: source NAT refused ${flow.sourceAddress}/${flow.sourcePort} -> ${flow.destinationAddress}/${flow.destinationPort} ` +
      `protocol ${flow.protocol}: rule ${rule}${pool ? `, pool ${pool}` : ''}: ${message}${more}`);
  };
}
