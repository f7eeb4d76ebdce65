// Policy lookup cost with 10 and with 10,000 rules in one zone pair, in one process:
// lookups per second (median, min and max of several runs), the ratio of the per-lookup
// costs, and what compiling the 10,000-rule config costs.
import { compileText } from '../../lib/config/compile.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { PolicyEngine, type PolicyQuery } from '../../lib/policy/engine.js';
import { compare, fmt, report } from './lib/report.js';

const RUNS = 7;
const LOOKUPS = 2_000_000;

/** Rule i: any source to a distinct /32 (even i) or /24 (odd i) on a distinct TCP port. */
function destination(i: number): string {
  const [a, b] = [(i >> 8) & 0xff, i & 0xff];
  return i % 2 === 0 ? `10.${a}.${b}.1/32` : `172.${16 + (a & 0x0f)}.${b}.0/24`;
}

function configText(rules: number): string {
  const lines = [
    'set security zones security-zone trust interfaces t0',
    'set security zones security-zone untrust interfaces u0',
    'set security address-book global address clients 192.168.0.0/16',
  ];
  for (let i = 0; i < rules; i++) {
    lines.push(
      `set security address-book global address d${i} ${destination(i)}`,
      `set applications application a${i} protocol tcp destination-port ${10000 + i}`,
      `set security policies from-zone trust to-zone untrust policy r${i} match source-address ${i % 3 === 0 ? 'clients' : 'any'} destination-address d${i} application a${i}`,
      `set security policies from-zone trust to-zone untrust policy r${i} then ${i % 5 === 0 ? 'deny' : 'permit'}`,
    );
  }
  return lines.join('\n') + '\n';
}

function compile(text: string): CompiledConfig {
  const r = compileText(text, 'bench.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function address(prefix: string): Uint8Array {
  return Uint8Array.from(prefix.split('/')[0].split('.').map(Number));
}

/** Half the queries match one of the last rules, half match none (the default policy decides). */
function queries(rules: number): PolicyQuery[] {
  const out: PolicyQuery[] = [];
  for (let k = 0; k < 64; k++) {
    const i = rules - 1 - (k % Math.min(rules, 8));
    const miss = k % 2 === 1;
    out.push({
      fromZone: 'trust',
      toZone: 'untrust',
      family: 'inet',
      protocol: 6,
      source: Uint8Array.of(192, 168, 1, 1 + k),
      destination: address(destination(i)),
      sourcePort: 40000 + k,
      // A miss asks for a port no rule names.
      destinationPort: miss ? 9000 : 10000 + i,
    });
  }
  return out;
}

/** Lookups per second over LOOKUPS lookups cycling through `qs`. */
function rate(e: PolicyEngine, qs: readonly PolicyQuery[]): number {
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < LOOKUPS; n++) sink += e.match(qs[n & 63]).policyId;
  const ns = Number(process.hrtime.bigint() - started);
  if (sink === -1) console.log(sink); // keeps the loop from being optimised away
  return (LOOKUPS / ns) * 1e9;
}

function timed<T>(f: () => T): [T, number] {
  const started = process.hrtime.bigint();
  const v = f();
  return [v, Number(process.hrtime.bigint() - started) / 1e6];
}

const sizes = [10, 10_000] as const;
const setups = sizes.map((rules) => {
  const text = configText(rules);
  const [cfg, compileMs] = timed(() => compile(text));
  const [engine, indexMs] = timed(() => new PolicyEngine(cfg));
  const qs = queries(rules);
  const expected = qs.map((q) => `r${rules - 1 - (qs.indexOf(q) % Math.min(rules, 8))}`);
  qs.forEach((q, k) => {
    const got = engine.lookup(q).policyName;
    if (got !== (k % 2 === 1 ? 'default-policy' : expected[k])) throw new Error(`${rules} rules, query ${k}: decided by ${got}`);
  });
  return { rules, engine, qs, compileMs, indexMs, rates: [] as number[] };
});

rate(setups[0].engine, setups[0].qs); // warm-up
rate(setups[1].engine, setups[1].qs);
for (let run = 0; run < RUNS; run++) for (const s of setups) s.rates.push(rate(s.engine, s.qs));

const [small, large] = setups;
report({
  id: 'policy',
  title: 'Policy lookup',
  method: `${fmt(LOOKUPS / 1e6)} M lookups per run in one zone pair, half matching one of the last rules and half falling to the default policy; ${RUNS} runs, the two sizes in turn. Compiling the 10,000-rule config took ${large!.compileMs.toFixed(0)} ms, building its index ${large!.indexMs.toFixed(0)} ms.`,
  comparisons: [compare('lookups', 'M/s', ['10,000 rules', large!.rates.map((r) => r / 1e6)], ['10 rules', small!.rates.map((r) => r / 1e6)])],
  facts: [],
});
