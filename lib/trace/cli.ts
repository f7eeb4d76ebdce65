// `xdpfw trace`: its flags and its human form.
import type { Argv } from 'yargs';
import type { TracePacketArgs } from '../control/protocol.js';
import type { TraceReport } from './trace.js';

export const withTraceFlags = <T>(y: Argv<T>) => y
  .option('interface', { type: 'string', demandOption: true, describe: 'the firewall interface the packet arrives on' })
  .option('source-ip', { type: 'string', describe: 'source address' })
  .option('destination-ip', { type: 'string', describe: 'destination address' })
  .option('protocol', { type: 'string', describe: 'tcp, udp, icmp, icmp6, ... or a number' })
  .option('source-port', { type: 'number', describe: 'source port (ICMP echo: the identifier)' })
  .option('destination-port', { type: 'number', describe: 'destination port' })
  .option('tcp-flags', { type: 'string', describe: 'TCP flags, e.g. syn or ack,psh (default syn)' })
  .option('icmp-type', { type: 'number', describe: 'ICMP type (default echo request)' })
  .option('icmp-code', { type: 'number', describe: 'ICMP code' })
  .option('length', { type: 'number', describe: 'IP length in bytes' })
  .option('ttl', { type: 'number', describe: 'IPv4 TTL / IPv6 hop limit (default 64)' })
  .option('hex', { type: 'string', describe: 'the whole Ethernet frame in hex instead of a description' });

export interface TraceArgs {
  interface: string;
  'source-ip'?: string;
  'destination-ip'?: string;
  protocol?: string;
  'source-port'?: number;
  'destination-port'?: number;
  'tcp-flags'?: string;
  'icmp-type'?: number;
  'icmp-code'?: number;
  length?: number;
  ttl?: number;
  hex?: string;
}

export function tracePacket(a: TraceArgs): TracePacketArgs {
  const p: TracePacketArgs = {
    interface: a.interface, sourceIp: a['source-ip'], destinationIp: a['destination-ip'], protocol: a.protocol,
    sourcePort: a['source-port'], destinationPort: a['destination-port'], tcpFlags: a['tcp-flags'], icmpType: a['icmp-type'],
    icmpCode: a['icmp-code'], length: a.length, ttl: a.ttl, hex: a.hex,
  };
  for (const k of Object.keys(p) as Array<keyof TracePacketArgs>) if (p[k] === undefined) delete p[k];
  return p;
}

export function formatTrace(r: TraceReport): string {
  const lines = [`packet received on ${r.interface}:`];
  r.stages.forEach((s, i) => {
    lines.push(`  ${String(i + 1).padStart(2)}. ${s.stage.padEnd(14)} ${s.path.padEnd(10)} ${s.verdict}${s.detail ? `  (${s.detail})` : ''}`);
  });
  const f = r.final;
  lines.push(`final: ${f.action}${f.egress ? ` via ${f.egress}` : ''} (${f.reason})`);
  return lines.join('\n');
}
