// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function,
// biggest first, as a markdown table. Usage: cpuprofile-top.js FILE [N]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CostLine {
  fn: string;
  selfMs: number;
  share: number;
}

export function topCosts(path: string, n: number): { totalMs: number; lines: CostLine[] } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const lines = [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([fn, ms]) => ({ fn, selfMs: ms, share: ms / total }));
  return { totalMs: total, lines };
}

if (process.argv[1]?.endsWith('cpuprofile-top.js')) {
  const { totalMs, lines } = topCosts(process.argv[2]!, Number(process.argv[3] ?? 20));
  console.log(`| self time | share | function |\n|---:|---:|---|`);
  for (const l of lines) console.log(`| ${l.selfMs.toFixed(0)} ms | ${(l.share * 100).toFixed(1)}% | \`${l.fn}\` |`);
  console.log(`\ntotal sampled: ${totalMs.toFixed(0)} ms`);
}
