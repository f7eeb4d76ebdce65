// Median, min and max of repeated runs, and ratios between two series
// measured in the same run.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  if (runs.length === 0) throw new Error('no runs');
  const s = [...runs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)!, runs };
}

/** Run i of `subject` over run i of `baseline`: both series are measured in the same order. */
export function pairedRatio(subject: number[], baseline: number[]): Summary {
  const n = Math.min(subject.length, baseline.length);
  return summarize(Array.from({ length: n }, (_, i) => subject[i]! / baseline[i]!));
}

/** p-th percentile (0..100) of a sample, nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
