// `xdpfw monitor packet-drop`: its flags and the loop that prints the stream.
import type { Argv } from 'yargs';
import { monitor } from '../control/client.js';
import type { DropQueryArgs } from '../control/protocol.js';
import type { DropEntry } from './drop-entry.js';
import { dropPredicate } from './drop-filter.js';
import { FLOW_FILTER_OPTIONS, flowFilterFromArgs } from '../session/filter-spec.js';
import type { NotShown } from './drop-monitor.js';
import { formatDropLine, formatNotShown } from './format.js';

/** The filters of `monitor packet-drop`: the session filters' flags, plus the drop reason. */
export const withDropFilters = <T>(y: Argv<T>) => y.options(FLOW_FILTER_OPTIONS)
  .option('reason', { type: 'string', describe: 'packet-drop: one drop reason (as in show counters)' })
  .option('count', { type: 'number', describe: 'packet-drop: stop after this many drops' })
  .option('rate', { type: 'number', describe: 'packet-drop: drops shown per second at most (per CPU in XDP; default 100)' });

interface DropArgs extends Record<string, unknown> {
  reason?: string;
  count?: number;
  rate?: number;
  json: boolean;
}

export async function monitorPacketDrop(socket: string, a: DropArgs): Promise<void> {
  const query: DropQueryArgs = { ...flowFilterFromArgs(a), ...(a.reason === undefined ? {} : { reason: a.reason }) };
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
