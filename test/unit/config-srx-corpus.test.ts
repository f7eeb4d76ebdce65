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

/**
 * Batfish grammar fixtures whose NAT would not commit (prefixes with host bits, pools,
 * zones, routing instances and addresses that are not defined, destination rules without a
 * destination): their NAT errors, all at `security nat` lines, and only these.
 */
const HOST_BITS = /has address bits set beyond the \/\d+ prefix length/;
const NAT_INVALID: ReadonlyMap<string, RegExp> = new Map([
  ['batfish-juniper-nat-pat.conf', new RegExp(`${HOST_BITS.source}|'port range' and 'port no-translation' exclude each other|has more than one port range`)],
  ['batfish-juniper-nat-static.conf', new RegExp(`${HOST_BITS.source}|unknown routing instance 'RI1'|needs 'match destination-address'`)],
  ['batfish-juniper-nat-vrf.conf', /source pool 'POOL[01]' has no address/],
  ['batfish-juniper-sourcenat-pool.conf', new RegExp(`${HOST_BITS.source}|of source pool 'POOL[45]' overlaps '1.0.0.1' of pool 'POOL2'`)],
  ['batfish-juniper_nat.conf', new RegExp(`${HOST_BITS.source}|unknown address or address-set '(SA-)?NAME'|unknown destination pool 'POOL'`)],
  ['batfish-nat-dest.conf', new RegExp(`${HOST_BITS.source}|needs 'match destination-address'|unknown address or address-set '(SA-|DA-)?NAME'|unknown destination pool 'POOL1'`)],
  ['batfish-nat-source.conf', new RegExp(`${HOST_BITS.source}|takes one of zone, interface or routing-instance, not interface and routing-instance|unknown address or address-set '(SA-)?NAME'|unknown source pool 'POOL'`)],
  ['batfish-nat-source2.conf', HOST_BITS],
]);
const NAT_NOT_APPLIED = / \(security nat is not applied\)$/;

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
    const natInvalid = NAT_INVALID.get(file);
    const natWarnings = ignoring.warnings.filter((w) => NAT_NOT_APPLIED.test(w.message));
    if (natInvalid) t.ok(natWarnings.length > 0, 'its NAT errors are warnings when NAT is left out');
    else t.same(natWarnings.map(String), [], 'its NAT validates');

    // Without the flag: refused only by lines naming a hierarchy the file has, at its place.
    const strict = compileText(text, path, LANGUAGE_ONLY);
    if (!strict.ok) {
      for (const e of strict.errors) {
        const m = REFUSAL.exec(e.message);
        if (!m && natInvalid) {
          t.match(e.message, natInvalid, `a known NAT error: ${e}`);
          t.match(lines[e.line - 1] ?? '', /^set security nat /, `${e} is a NAT line`);
          continue;
        }
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
