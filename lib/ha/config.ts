import type { Statement, Word } from '../config/ast.js';
import type { Diagnostics } from '../config/errors.js';
import { parsePrefix } from '../config/ip.js';
import { child, each, listOf, valueOf } from '../config/tree.js';
import { checkInterfaceName, parseNumber } from '../config/values.js';
import type { HaAddress, HaConfig, RedundancyGroup, VirtualIp } from './types.js';

/** VRRP version 3 counts the advert interval in centiseconds. */
const ADVERT_STEP_MS = 10;
const ADVERT_MAX_MS = 40_950;
/** The failover this design aims for needs adverts at least this often. */
const DEFAULT_ADVERT_MS = 100;

/** A host address (no prefix length), or null after reporting. */
function address(d: Diagnostics, w: Word, what: string): HaAddress | null {
  const p = parsePrefix(w.text);
  if (typeof p === 'string' || w.text.includes('/')) {
    d.error(w.pos, `invalid ${what} '${w.text}': expected an IPv4 or IPv6 address without a prefix length`);
    return null;
  }
  return { family: p.family, text: w.text };
}

/** The one required leaf `keyword` of `s`, or null after reporting at `s`. */
function required(d: Diagnostics, s: Statement, keyword: string, what: string): Word | null {
  const leaf = child(s.children, keyword);
  if (leaf) return valueOf(leaf);
  d.error(s.pos, `${what} needs '${keyword}'`);
  return null;
}

/** Compiles `high-availability` (a normalised statement); every error goes to `d`. null when there are errors. */
export function compileHa(ha: Statement, d: Diagnostics, zoneInterface?: (written: string) => boolean): HaConfig | null {
  const errors = d.errors.length;
  const local = child(ha.children, 'local-id');
  const peers = each(ha.children, 'peer-id');
  if (!local) d.error(ha.pos, "high-availability needs 'local-id N { local-ip ADDRESS; }': this box's id and its address on the peer link");
  if (peers.length !== 1) d.error(peers[1]?.pos ?? ha.pos, `high-availability needs exactly one 'peer-id' (the other box of the pair); found ${peers.length}`);
  const localId = local ? parseNumber(d, local.words[1], 'local id', 1, 255) : null;
  const localIpWord = local ? required(d, local, 'local-ip', `local-id ${local.words[1].text}`) : null;
  const localIp = localIpWord ? address(d, localIpWord, 'local-ip') : null;

  const p = peers[0];
  const peerId = p ? parseNumber(d, p.words[1], 'peer id', 1, 255) : null;
  if (p && peerId !== null && peerId === localId) d.error(p.words[1].pos, `peer-id ${peerId} is the local id: the two boxes need different ids`);
  const peerIpWord = p ? required(d, p, 'peer-ip', `peer-id ${p.words[1].text}`) : null;
  const peerIp = peerIpWord ? address(d, peerIpWord, 'peer-ip') : null;
  if (peerIpWord && localIp && peerIp) {
    if (peerIp.family !== localIp.family) d.error(peerIpWord.pos, `peer-ip ${peerIp.text} and local-ip ${localIp.text} are of different families: the peer link needs one`);
    else if (parsePrefixKey(peerIp.text) === parsePrefixKey(localIp.text)) d.error(peerIpWord.pos, `peer-ip ${peerIp.text} is the local-ip`);
  }
  const linkWord = p ? required(d, p, 'interface', `peer-id ${p.words[1].text}`) : null;
  if (linkWord) checkInterfaceName(d, linkWord);
  const interval = child(child(p?.children, 'liveness-detection')?.children, 'minimum-interval');
  let advertMs: number | null = DEFAULT_ADVERT_MS;
  if (interval) {
    const w = valueOf(interval);
    advertMs = parseNumber(d, w, 'minimum-interval (milliseconds)', ADVERT_STEP_MS, ADVERT_MAX_MS);
    if (advertMs !== null && advertMs % ADVERT_STEP_MS !== 0) {
      d.error(w.pos, `minimum-interval ${advertMs} is not a multiple of ${ADVERT_STEP_MS} ms: VRRP adverts are timed in centiseconds`);
      advertMs = null;
    }
  }

  const groups: RedundancyGroup[] = [];
  const groupStmts = each(ha.children, 'services-redundancy-group');
  if (groupStmts.length === 0) d.error(ha.pos, "high-availability needs a 'services-redundancy-group' with the virtual IPs it moves");
  const vipsSeen = new Map<string, Word>();
  for (const g of groupStmts) {
    const group = redundancyGroup(d, g, peerId, vipsSeen, zoneInterface);
    if (group) groups.push(group);
  }
  if (d.errors.length > errors || localId === null || !localIp || peerId === null || !peerIp || !linkWord || advertMs === null) return null;
  return { localId, localIp, peer: { id: peerId, ip: peerIp, interface: linkWord.text, advertMs }, groups };
}

/** An address in one canonical form, so that `fd00::1` and `fd00:0::1` compare equal. */
function parsePrefixKey(text: string): string {
  const p = parsePrefix(text);
  return typeof p === 'string' ? text : `${p.family}:${p.words.join('.')}`;
}

function redundancyGroup(
  d: Diagnostics, g: Statement, peerId: number | null, vipsSeen: Map<string, Word>, zoneInterface?: (written: string) => boolean,
): RedundancyGroup | null {
  const name = `services-redundancy-group ${g.words[1].text}`;
  // VRRP virtual router ids are 1..255: the group id is used as one.
  const id = parseNumber(d, g.words[1], 'services redundancy group id', 1, 255);
  for (const w of listOf(g.children, 'peer-id')) {
    if (peerId !== null && w.text !== String(peerId)) d.error(w.pos, `${name}: peer-id ${w.text} is not the configured peer (peer-id ${peerId})`);
  }
  const prio = child(g.children, 'activeness-priority');
  if (!prio) d.error(g.pos, `${name} needs 'activeness-priority' (1-254; the box with the higher one is active)`);
  const priority = prio ? parseNumber(d, valueOf(prio), 'activeness-priority', 1, 254) : null;
  const virtualIps: VirtualIp[] = [];
  const vipStmts = each(g.children, 'virtual-ip');
  if (vipStmts.length === 0) d.error(g.pos, `${name} needs at least one 'virtual-ip N { ip PREFIX; interface NAME; }'`);
  for (const v of vipStmts) {
    const vipId = parseNumber(d, v.words[1], 'virtual IP id', 1, 255);
    const what = `${name} virtual-ip ${v.words[1].text}`;
    const ipWord = required(d, v, 'ip', what);
    const ifWord = required(d, v, 'interface', what);
    // A gateway address is for a segment xdpfw filters: its interface is in a security zone.
    if (ifWord && checkInterfaceName(d, ifWord) && zoneInterface && !zoneInterface(ifWord.text)) {
      d.error(ifWord.pos, `${what}: interface '${ifWord.text}' is in no security zone: a virtual IP is the gateway of a zone's segment`);
    }
    if (!ipWord) continue;
    // The address (host bits set, it is one) and the length of the subnet it is the gateway of.
    const [host = '', length] = ipWord.text.split('/');
    const p = parsePrefix(host);
    const max = typeof p === 'string' ? 0 : p.family === 'inet' ? 32 : 128;
    if (typeof p === 'string' || length === undefined || !/^[0-9]{1,3}$/.test(length) || Number(length) > max) {
      d.error(ipWord.pos, `invalid virtual IP '${ipWord.text}': expected an address with its prefix length (10.1.0.1/24, fd00:1::1/64)`);
      continue;
    }
    const key = parsePrefixKey(ipWord.text.split('/')[0]!);
    const before = vipsSeen.get(key);
    if (before) {
      d.error(ipWord.pos, `virtual IP ${ipWord.text} is already used at ${before.pos.line}:${before.pos.column}`);
      continue;
    }
    vipsSeen.set(key, ipWord);
    if (vipId !== null && ifWord) virtualIps.push({ id: vipId, family: p.family, prefix: ipWord.text, interface: ifWord.text });
  }
  if (id === null || priority === null) return null;
  return { id, priority, preemption: child(g.children, 'preemption') !== undefined, virtualIps };
}
