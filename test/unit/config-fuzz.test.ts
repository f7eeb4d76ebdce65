import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { SEEDS, mutate, problem } from '../fuzz/config-mutate.js';
import { prng as rng } from '../helpers/prng.js';

t.test('mutated configurations end in errors or a configuration', async (t) => {
  const rand = rng(20240601);
  let compiled = 0;
  let failed = 0;
  const started = Date.now();
  for (let i = 0; i < 3000; i++) {
    const text = mutate(SEEDS[i % SEEDS.length], rand);
    const p = problem(text);
    if (p) return void t.fail(`case ${i}: ${p}\n--- input ---\n${text}`);
    if (compileText(text, 'fuzz.conf').ok) compiled++;
    else failed++;
  }
  t.ok(compiled > 0 && failed > 0, `both outcomes occur (${compiled} compiled, ${failed} rejected)`);
  t.ok(Date.now() - started < 60_000, 'no case is slow');
});

t.test('random bytes end in errors or a configuration', async (t) => {
  const rand = rng(99);
  for (let i = 0; i < 300; i++) {
    const text = Array.from({ length: Math.floor(rand() * 400) }, () => String.fromCharCode(Math.floor(rand() * (rand() < 0.2 ? 65536 : 128)))).join('');
    const p = problem(text);
    if (p) return void t.fail(`bytes ${i}: ${p}\n--- input ---\n${JSON.stringify(text)}`);
  }
  t.pass('300 random inputs');
});

t.test('pathological inputs', async (t) => {
  for (const [name, text] of [
    ['deep braces', 'a '.concat('{ '.repeat(100_000))],
    ['deep closing', '}'.repeat(100_000)],
    ['long set line', `set ${'a '.repeat(100_000)}`],
    ['many markers', `set ${'x inactive: '.repeat(10_000)}y`],
    ['long list', `set security policies global policy p match application [ ${'junos-http '.repeat(50_000)}]`],
    ['huge word', 'x'.repeat(1_000_000)],
    ['many interfaces', `set security zones security-zone z interfaces ${Array.from({ length: 20_000 }, (_, i) => `e${i}`).join(' ')}`],
    [
      'large address set',
      Array.from({ length: 20_000 }, (_, i) => `set security address-book global address a${i} 10.${i >> 8}.${i & 255}.0/24\nset security address-book global address-set big address a${i}\n`).join('') +
        'set security policies global policy p match source-address big destination-address big application any\nset security policies global policy p then permit\n',
    ],
    ['unterminated string', `a "${'b'.repeat(100_000)}`],
    ['unterminated comment', `/*${'c\n'.repeat(100_000)}`],
  ]) {
    t.equal(problem(text), null, name);
  }
});
