// A new flow's source translation, as the slow path asks for it once policy permitted the flow
// and the route named its egress: the rule and lease (lib/nat/source-nat.ts) and the entries
// XDP translates the session's packets by (lib/nat/translated-tuple.ts).
import { SESSION_KEY } from '../dataplane/layout.js';
import type { Family } from '../config/family.js';
import type { NatSide } from './lookup.js';
import type { SourceNat } from './source-nat.js';
import type { TranslatedSession } from './nat-sessions.js';
import { natEntries, withSource } from './translated-tuple.js';

const K = SESSION_KEY.offset;

export type FlowTranslation =
  | { kind: 'untranslated' }
  | { kind: 'translated'; session: TranslatedSession }
  | { kind: 'refused'; rule: string; pool: string | null; message: string };

function addressValue(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function addressBytes(family: Family, v: bigint): Uint8Array {
  const n = family === 'inet' ? 4 : 16;
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/**
 * `tuple`: the first packet's (struct xdpfw_session_key); `egressAddress`: the box's address on
 * the egress interface toward the destination (4 or 16 bytes), null when it has none.
 */
export function translateSource(
  source: SourceNat, tuple: Buffer, ingress: NatSide, egress: NatSide, egressAddress: () => Uint8Array | null,
): FlowTranslation {
  const family: Family = tuple[K.family] === 2 ? 'inet' : 'inet6';
  const width = family === 'inet' ? 4 : 16;
  const flow = {
    family,
    protocol: tuple[K.protocol]!,
    source: addressValue(tuple.subarray(K.src_addr, K.src_addr + width)),
    destination: addressValue(tuple.subarray(K.dst_addr, K.dst_addr + width)),
    sourcePort: tuple.readUInt16BE(K.src_port),
    destinationPort: tuple.readUInt16BE(K.dst_port),
  };
  const result = source.translate(flow, ingress, egress, () => {
    const a = egressAddress();
    return a === null || a.length !== width ? null : addressValue(a);
  });
  if (result.kind === 'untranslated') return result;
  if (result.kind === 'refused') return { kind: 'refused', rule: `${result.rule.ruleSet}/${result.rule.name}`, pool: result.pool, message: result.message };
  const t = result.translation;
  // Protocols without ports keep theirs (0).
  const port = flow.sourcePort === 0 && t.lease.port === 0 ? 0 : t.lease.port;
  const translated = withSource(tuple, addressBytes(family, t.lease.address), port);
  return { kind: 'translated', session: { translation: t, translated, entries: natEntries(tuple, translated) } };
}
