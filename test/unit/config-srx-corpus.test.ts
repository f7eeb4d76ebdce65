// Real SRX configurations (test/fixtures/srx, sources in its README) check unchanged.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { compileText, readConfigTree, type CompileResult } from '../../lib/config/compile.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';
import { comparable, messages } from '../helpers/compiled-config.js';

// The corpus is checked as `xdpfw check` without an interface map does: the language alone,
// its Junos interface names not looked for on this box.
const LANGUAGE_ONLY = { requireInterfaces: false } as const;

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/srx');

/** Configs that do not check yet, and the only errors allowed to stop them (see the README). */
const PENDING: ReadonlyMap<string, RegExp> = new Map([
  ['batfish-firewall-combined-policies.conf', /is in no security zone, so xdpfw never sees its traffic|has address bits set beyond the \/\d+ prefix length/],
]);

const REFUSAL = /^(.+) not supported; it changes what passes or how: remove it, or load without it \(--ignore-unsupported\)$/;

const files = readdirSync(DIR).filter((f) => f.endsWith('.conf')).sort();

t.ok(files.length - PENDING.size >= 25, `at least 25 real configurations check (${files.length - PENDING.size})`);

function ok(t: Test, r: CompileResult, what: string): r is Extract<CompileResult, { ok: true }> {
  if (!r.ok) t.fail(`${what}:\n${r.errors.join('\n')}`);
  return r.ok;
}

for (const file of files) {
  t.test(file, async (t) => {
    const path = join(DIR, file);
    const text = readFileSync(path, 'utf8');
    const lines = text.split(/\r?\n/);
    const ignoring = compileText(text, path, { ignoreUnsupported: true, ...LANGUAGE_ONLY });
    const pending = PENDING.get(file);
    if (pending) {
      t.notOk(ignoring.ok, 'still pending: when it checks, move it out of PENDING');
      if (!ignoring.ok) for (const e of ignoring.errors) t.match(e.message, pending, `only the pending reason: ${e}`);
      return;
    }
    if (!ok(t, ignoring, 'checks with --ignore-unsupported')) return;

    // Without the flag: refused only by lines naming a hierarchy the file has, at its place.
    const strict = compileText(text, path, LANGUAGE_ONLY);
    if (!strict.ok) {
      for (const e of strict.errors) {
        const m = REFUSAL.exec(e.message);
        t.ok(m, `refused only as not supported: ${e}`);
        if (!m) continue;
        const last = m[1].split(' ').pop() ?? '';
        const at = lines[e.line - 1]?.slice(e.column - 1) ?? '';
        // The path's last word, or (for a junos-host zone pair) the from-zone it starts with.
        t.ok(at.startsWith(last) || at.startsWith('from-zone') || /^"?[^ ]/.test(at) && at.includes(last), `${e} points at '${last}'`);
      }
      t.same(messages(strict.warnings), messages(ignoring.warnings.filter((w) => !strict.errors.some((e) => e.line === w.line && e.column === w.column))),
        'the warnings are the same, but for the refused statements');
    }

    // The set form of the whole file (groups and unsupported statements included) means the same.
    const tree = readConfigTree(text, path);
    t.same(tree.errors.map(String), [], 'reads');
    const asSet = compileText(printSet(tree.tree), `${file}.set`, { ignoreUnsupported: true, ...LANGUAGE_ONLY });
    const asHierarchy = compileText(printHierarchical(tree.tree), `${file}.hier`, { ignoreUnsupported: true, ...LANGUAGE_ONLY });
    if (ok(t, asSet, 'set form checks')) {
      t.same(comparable(asSet.config), comparable(ignoring.config), 'set form compiles to the same result');
      t.same(messages(asSet.warnings), messages(ignoring.warnings), 'set form: the same statements not applied');
    }
    if (ok(t, asHierarchy, 'printed hierarchical form checks')) t.same(comparable(asHierarchy.config), comparable(ignoring.config), 'printed hierarchical form compiles to the same result');

    // `show config` (the tree xdpfw runs) re-checks, without the flag, to the same result.
    for (const [form, print] of [['hierarchical', printHierarchical], ['set', printSet]] as const) {
      const again = compileText(print(ignoring.config.tree), `show-config.${form}`, LANGUAGE_ONLY);
      if (ok(t, again, `show config (${form}) re-checks`)) t.same(comparable(again.config), comparable(ignoring.config), `show config (${form}) re-checks to the same result`);
    }
  });
}
