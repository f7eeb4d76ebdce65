// The diff of two configurations as the set/delete lines that turn one into the other.
import t from 'tap';
import { readConfigTree } from '../../lib/config/compile.js';
import { diffLines, diffTrees } from '../../lib/commit/diff.js';

const tree = (text: string) => {
  const r = readConfigTree(text, 'test.conf');
  if (r.errors.length) throw new Error(r.errors.join('\n'));
  return r.tree;
};
const diff = (a: string, b: string) => diffLines(diffTrees(tree(a), tree(b)));

const BASE = `
security {
    zones {
        security-zone trust { interfaces { trust0; } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
    }
    flow { timeouts { udp 60; } }
}
`;

t.test('the same configuration, in either form, differs in nothing', async (t) => {
  t.same(diff(BASE, BASE), []);
  const setForm = [
    'set security zones security-zone trust interfaces trust0',
    'set security zones security-zone untrust interfaces untrust0',
    'set security policies from-zone trust to-zone untrust policy allow-out match source-address any',
    'set security policies from-zone trust to-zone untrust policy allow-out match destination-address any',
    'set security policies from-zone trust to-zone untrust policy allow-out match application any',
    'set security policies from-zone trust to-zone untrust policy allow-out then permit',
    'set security flow timeouts udp 60',
  ].join('\n');
  t.same(diff(BASE, setForm), [], 'set lines and the hierarchy compare equal');
});

t.test('a changed value is a delete of the old and a set of the new', async (t) => {
  t.same(diff(BASE, BASE.replace('udp 60', 'udp 120')), [
    'delete security flow timeouts udp 60',
    'set security flow timeouts udp 120',
  ]);
});

t.test('a removed block is one delete line; an added one is set lines', async (t) => {
  const without = BASE.replace(/policy allow-out \{[\s\S]*?then \{ permit; \}\s*\}/, '');
  t.same(diff(BASE, without), ['delete security policies from-zone trust to-zone untrust policy allow-out']);
  t.same(diff(without, BASE), [
    'set security policies from-zone trust to-zone untrust policy allow-out match source-address any',
    'set security policies from-zone trust to-zone untrust policy allow-out match destination-address any',
    'set security policies from-zone trust to-zone untrust policy allow-out match application any',
    'set security policies from-zone trust to-zone untrust policy allow-out then permit',
  ]);
});

t.test('a policy added in front says where it goes', async (t) => {
  const front = BASE.replace('policy allow-out {', `policy no-ssh {
                match { source-address any; destination-address any; application junos-ssh; }
                then { deny; }
            }
            policy allow-out {`);
  t.same(diff(BASE, front), [
    'set security policies from-zone trust to-zone untrust policy no-ssh match source-address any',
    'set security policies from-zone trust to-zone untrust policy no-ssh match destination-address any',
    'set security policies from-zone trust to-zone untrust policy no-ssh match application junos-ssh',
    'set security policies from-zone trust to-zone untrust policy no-ssh then deny',
    'insert security policies from-zone trust to-zone untrust policy no-ssh before policy allow-out',
  ]);
  const appended = BASE.replace(/(then \{ permit; \}\s*\})/, `$1
            policy no-ssh {
                match { source-address any; destination-address any; application junos-ssh; }
                then { deny; }
            }`);
  t.notOk(diff(BASE, appended).some((l) => l.startsWith('insert')), 'appended at the end: no insert');
  t.same(diff(front, appended), ['insert security policies from-zone trust to-zone untrust policy allow-out before policy no-ssh'], 'a reorder is an insert');
});

t.test('deactivation and quoting', async (t) => {
  t.same(diff(BASE, BASE.replace('policy allow-out {', 'inactive: policy allow-out {')),
    ['deactivate security policies from-zone trust to-zone untrust policy allow-out']);
  const described = BASE.replace('then { permit; }', 'then { permit; } description "two words";');
  t.same(diff(BASE, described), ['set security policies from-zone trust to-zone untrust policy allow-out description "two words"']);
});
