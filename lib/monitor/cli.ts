// `xdpfw monitor packet-drop`: its flags and the loop that prints the stream.
import type { Argv } from 'yargs';
import { monitor } from '../control/client.js';
import type { DropQueryArgs } from '../control/protocol.js';
import type { DropEntry } from './drop-entry.js';
import { dropPredicate } from './drop-filter.js';
import type { NotShown } from './drop-monitor.js';
import { formatDropLine, formatNotShown } from './format.js';

/** The filters of `monitor packet-drop`, named as the session filters are. */
export const withDropFilters = <T>(y: Argv<T>) => y
  .option('source-prefix', { type: 'string', describe: 'packet-drop: source address in this prefix' })
  .option('destination-prefix', { type: 'string', describe: 'packet-drop: destination address in this prefix' })
  .option('source-port', { type: 'number', describe: 'packet-drop: source port' })
  .option('destination-port', { type: 'number', describe: 'packet-drop: destination port' })
  .option('protocol', { type: 'string', describe: 'packet-drop: protocol name or number' })
  .option('interface', { type: 'string', describe: 'packet-drop: ingress interface' })
  .option('family', { choices: ['inet', 'inet6'] as const, describe: 'packet-drop: address family' })
  .option('zone', { type: 'string', describe: 'packet-drop: ingress zone' })
  .option('reason', { type: 'string', describe: 'packet-drop: one drop reason (as in show counters)' })
  .option('count', { type: 'number', describe: 'packet-drop: stop after this many drops' })
  .option('rate', { type: 'number', describe: 'packet-drop: drops shown per second at most (per CPU in XDP; default 100)' });

interface DropArgs {
  'source-prefix'?: string;
  'destination-prefix'?: string;
  'source-port'?: number;
  'destination-port'?: number;
  protocol?: string;
  interface?: string;
  family?: 'inet' | 'inet6';
  zone?: string;
  reason?: string;
  count?: number;
  rate?: number;
  json: boolean;
}

export async function monitorPacketDrop(socket: string, a: DropArgs): Promise<void> {
  const query: DropQueryArgs = {
    sourcePrefix: a['source-prefix'], destinationPrefix: a['destination-prefix'], sourcePort: a['source-port'],
    destinationPort: a['destination-port'], protocol: a.protocol, interface: a.interface, family: a.family, zone: a.zone, reason: a.reason,
  };
  for (const k of Object.keys(query) as Array<keyof DropQueryArgs>) if (query[k] === undefined) delete query[k];
  dropPredicate(query); // a bad flag fails here, with its name, before the daemon is asked
  if (a.count !== undefined && (!Number.isInteger(a.count) || a.count < 1)) throw new Error('--count must be a positive integer');
  if (a.rate !== undefined && (!Number.isInteger(a.rate) || a.rate < 1 || a.rate > 100000)) throw new Error('--rate must be an integer from 1 to 100000');
  let shown = 0;
  let failure: string | null = null;
  await monitor(socket, { command: 'monitor-packet-drop', query, perSecond: a.rate }, (line) => {
    const msg = JSON.parse(line) as DropEntry | NotShown | { ok: false; error: string };
    if ('ok' in msg) {
      failure = msg.error;
      return false;
    }
    if ('notShown' in msg) {
      process.stderr.write(`${a.json ? line : formatNotShown(msg)}\n`);
      return true;
    }
    process.stdout.write(`${a.json ? line : formatDropLine(msg)}\n`);
    shown++;
    return a.count === undefined || shown < a.count;
  });
  if (failure !== null) throw new Error(failure);
}
