// The screen benchmarks' common rig: one veth whose zone screens a land
// attack and a SYN flood past its threshold, the two frames that trip them,
// and the bare XDP_DROP program they are measured against.
import { compileText } from '../../../lib/config/compile.js';
import type { Dataplane } from '../../../lib/dataplane/dataplane.js';
import { ifNameToIndex, openObject, type BpfObject } from '../../../lib/dataplane/native.js';
import { applyScreens } from '../../../lib/screens/apply.js';
import { bpfObjectPath } from '../../../lib/util/paths.js';
import { frame } from '../../helpers/packets.js';

export interface ScreenRig {
  ifindex: number;
  /** A land attack (source = destination). */
  land: Buffer;
  /** A SYN of a flood past the zone's attack threshold of 1. */
  syn: Buffer;
  /** The object holding bare_drop; the caller closes it. */
  sink: BpfObject;
  bareDrop: number;
  /** The least a counting land screen does (bpf/bench/sink.bpf.c least_land). */
  leastLand: number;
}

/** Puts bench0 in a zone whose screen trips on both floods. */
export function screenRig(dp: Dataplane): ScreenRig {
  const ifindex = ifNameToIndex('bench0');
  dp.setInterfaceZone(ifindex, 0, 1);
  const r = compileText(`security {
    zones { security-zone flood { interfaces { bench0; } screen s; } }
    screen { ids-option s { tcp { land; syn-flood { attack-threshold 1; alarm-threshold 1; } } } }
  }`, 'bench.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  applyScreens(dp, r.config);
  const sink = openObject(bpfObjectPath('bench/sink'));
  return {
    ifindex,
    land: frame({ src: '10.0.0.1', dst: '10.0.0.1', protocol: 'tcp', tcpFlags: 0x02, sport: 1000, dport: 80 }),
    syn: frame({ src: '10.0.0.2', dst: '10.0.0.1', protocol: 'tcp', tcpFlags: 0x02, sport: 1000, dport: 80 }),
    sink,
    bareDrop: sink.progFd('bare_drop'),
    leastLand: sink.progFd('least_land'),
  };
}
