import type { Statement, Word } from '../ast.js';
import type { Diagnostics } from '../errors.js';
import { child, each, valueOf } from '../tree.js';
import { checkName } from '../values.js';
import type { Policer } from './model.js';

/** `firewall policer P { if-exceeding { bandwidth-limit R; burst-size-limit B; } then discard; }`. */

/** Junos's bounds: 8 kbps to 100 Gbps; 1500 bytes (one packet) to 1 GB of burst (what XDP's bucket arithmetic holds). */
export const BANDWIDTH_LIMIT_RANGE: readonly [number, number] = [8_000, 100_000_000_000];
export const BURST_SIZE_LIMIT_RANGE: readonly [number, number] = [1_500, 1_000_000_000];

const SUFFIX: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** `10m`, `1500`, `15k`: a number with an optional k, m or g (powers of 1000), or null. */
export function parseScaled(text: string): number | null {
  const m = /^([0-9]{1,12})([kmg]?)$/i.exec(text);
  return m ? Number(m[1]) * SUFFIX[m[2].toLowerCase()] : null;
}

function bounded(w: Word | undefined, at: Statement, what: string, range: readonly [number, number], unit: string, d: Diagnostics): number | null {
  if (!w) {
    d.error(at.pos, `policer '${at.words[1].text}' needs '${what}' in 'if-exceeding'`);
    return null;
  }
  const n = parseScaled(w.text);
  if (n === null || n < range[0] || n > range[1]) {
    d.error(w.pos, `invalid ${what} '${w.text}': expected ${range[0]} to ${range[1]} ${unit}, optionally with k, m or g (e.g. 10m)`);
    return null;
  }
  return n;
}

export function compilePolicers(firewall: Statement | undefined, d: Diagnostics): Map<string, Policer> {
  const out = new Map<string, Policer>();
  for (const p of each(firewall?.children, 'policer')) {
    const name = p.words[1];
    checkName(d, name, 'policer name');
    const exceeding = child(p.children, 'if-exceeding');
    const leaf = (kw: string): Word | undefined => {
      const s = child(exceeding?.children, kw);
      return s ? valueOf(s) : undefined;
    };
    const bandwidthLimit = bounded(leaf('bandwidth-limit'), p, 'bandwidth-limit', BANDWIDTH_LIMIT_RANGE, 'bits per second', d);
    const burstSizeLimit = bounded(leaf('burst-size-limit'), p, 'burst-size-limit', BURST_SIZE_LIMIT_RANGE, 'bytes', d);
    const then = child(p.children, 'then');
    if (!child(then?.children, 'discard')) d.error((then ?? p).pos, `policer '${name.text}' needs 'then discard' (what happens to a packet beyond its limits)`);
    if (bandwidthLimit !== null && burstSizeLimit !== null) out.set(name.text, { name: name.text, bandwidthLimit, burstSizeLimit });
  }
  return out;
}
