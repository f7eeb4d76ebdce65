// One benchmark's result: printed as a markdown table and, when the runner
// asks for it (XDPFW_BENCH_OUT), written as JSON for bench-results.json.
import { appendFileSync } from 'node:fs';
import { type Summary, pairedRatio, summarize } from './stats.js';

export interface Target {
  /** The ratio must be at least (`>=`) or at most (`<=`) `value`. */
  op: '>=' | '<=';
  value: number;
}

export interface Comparison {
  metric: string;
  unit: string;
  subject: { name: string } & Summary;
  baseline: { name: string } & Summary;
  /** subject / baseline, run by run. */
  ratio: Summary;
  target?: Target & { met: boolean };
}

export interface BenchResult {
  id: string;
  title: string;
  /** How it was measured, in a sentence or two. */
  method: string;
  comparisons: Comparison[];
  /** Figures that are not ratios (accounting, memory), as label/value lines. */
  facts: Array<[string, string]>;
}

export function compare(
  metric: string, unit: string,
  subject: [string, number[]], baseline: [string, number[]], target?: Target,
): Comparison {
  const ratio = pairedRatio(subject[1], baseline[1]);
  return {
    metric, unit,
    subject: { name: subject[0], ...summarize(subject[1]) },
    baseline: { name: baseline[0], ...summarize(baseline[1]) },
    ratio,
    ...(target && { target: { ...target, met: target.op === '>=' ? ratio.median >= target.value : ratio.median <= target.value } }),
  };
}

/** Three significant figures, no exponent. */
export function fmt(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(n))));
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: Math.min(digits, 2) });
}

const range = (s: Summary): string => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

export function markdown(r: BenchResult): string {
  const out = [`### ${r.title}`, '', r.method, ''];
  if (r.comparisons.length > 0) {
    out.push('| metric | xdpfw / subject: median (min–max) | baseline: median (min–max) | ratio: median (min–max) | target |', '|---|---|---|---|---|');
    for (const c of r.comparisons) {
      const target = c.target ? `${c.target.op} ${c.target.value}: ${c.target.met ? 'met' : '**not met**'}` : '';
      out.push(`| ${c.metric} (${c.unit}) | ${c.subject.name}: ${range(c.subject)} | ${c.baseline.name}: ${range(c.baseline)} | ${range(c.ratio)} | ${target} |`);
    }
    out.push('');
  }
  if (r.facts.length > 0) {
    out.push('| | |', '|---|---|', ...r.facts.map(([k, v]) => `| ${k} | ${v} |`), '');
  }
  return out.join('\n');
}

export function report(r: BenchResult): void {
  process.stdout.write(`${markdown(r)}\n`);
  const out = process.env.XDPFW_BENCH_OUT;
  if (out) appendFileSync(out, `${JSON.stringify(r)}\n`);
}
