// `make bench`: runs every benchmark in its own process (each builds and
// removes its own namespaces), prints their markdown tables, and writes
// bench-results.json and bench-results.md at the repository root.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../lib/util/paths.js';
import { type BenchResult, markdown } from './lib/report.js';

const MODULES = ['forwarding', 'screens', 'screen-costs', 'stages', 'sessions', 'session-query', 'session-floor', 'latency', 'storm', 'memory', 'transfer', 'policy', 'judge', 'ha-sync'];
const only = process.argv.slice(2);
// New flows by RX queues and slow-path threads (queues.ts) run after sessions, whose figures they extend.
MODULES.splice(MODULES.indexOf('sessions') + 1, 0, 'queues');

function machine(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return {
    cpus: String(cpus().length),
    'cpu model': model,
    kernel,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at start)`,
    node: process.version,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'xdpfw-bench-'));
const out = join(dir, 'results.jsonl');
const failed: string[] = [];
const started = Date.now();
try {
  for (const m of MODULES.filter((x) => only.length === 0 || only.includes(x))) {
    const t0 = Date.now();
    process.stdout.write(`\n<!-- ${m} -->\n`);
    const r = spawnSync(process.execPath, [resolve(packageRoot, 'dist', 'test', 'bench', `${m}.js`)], {
      stdio: 'inherit', env: { ...process.env, XDPFW_BENCH_OUT: out },
    });
    if (r.status !== 0) failed.push(m);
    process.stdout.write(`<!-- ${m}: ${((Date.now() - t0) / 1000).toFixed(0)} s${r.status !== 0 ? ', FAILED' : ''} -->\n`);
  }
  let lines: string[] = [];
  try { lines = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean); } catch { /* nothing reported */ }
  const results = lines.map((l) => JSON.parse(l) as BenchResult);
  const info = machine();
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(resolve(packageRoot, 'bench-results.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: info, seconds, failed, results }, null, 2)}\n`);
  const md = [
    `Machine: ${Object.entries(info).map(([k, v]) => `${k} ${v}`).join('; ')}. Total ${seconds.toFixed(0)} s.`, '',
    ...results.map(markdown),
  ].join('\n');
  writeFileSync(resolve(packageRoot, 'bench-results.md'), md);
  process.stdout.write(`\nbench-results.json and bench-results.md written (${seconds.toFixed(0)} s)${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed.length ? 1 : 0);
