import t from 'tap';
import type { Statement, Word } from '../../lib/config/ast.js';
import { readConfigTree } from '../../lib/config/compile.js';
import { normalize } from '../../lib/config/normalize.js';
import { parse } from '../../lib/config/parser.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';
import { SCHEMA } from '../../lib/config/schema.js';
import { prng as rng } from '../helpers/prng.js';

type Plain = [string[], boolean, Plain[] | null];
/** Everything but positions. */
function plain(tree: readonly Statement[]): Plain[] {
  return tree.map((s) => [s.words.map((w) => (w.quoted ? `"${w.text}` : w.text)), s.inactive, s.children && plain(s.children)]);
}

function parsed(text: string): Statement[] {
  const r = parse(text, 'r.conf');
  if (r.errors.length) throw new Error(r.errors.join('\n'));
  return r.tree;
}

function canonical(text: string): Statement[] {
  const r = readConfigTree(text, 'c.conf');
  if (r.errors.length) throw new Error(r.errors.join('\n'));
  return r.tree;
}

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { eth0; } host-inbound-traffic { system-services { ping; } } }
        inactive: security-zone lab;
    }
    address-book global {
        address "web server" 192.0.2.10;
        address-set s { address "web server"; }
    }
    policies {
        from-zone trust to-zone trust {
            policy p {
                description "says \\"hi\\"; {braces} [brackets] # not a comment";
                match { source-address any; destination-address s; application [ junos-http junos-https ]; inactive: application junos-ssh; }
                then { permit; inactive: log { session-init; } }
            }
        }
    }
}
set security policies default-policy deny-all
`;

t.test('normalised hierarchical form', async (t) => {
  t.equal(
    printHierarchical(canonical(CONFIG)),
    `security {
    zones {
        security-zone trust {
            interfaces {
                eth0;
            }
            host-inbound-traffic {
                system-services {
                    ping;
                }
            }
        }
        inactive: security-zone lab;
    }
    address-book {
        global {
            address "web server" 192.0.2.10;
            address-set s {
                address "web server";
            }
        }
    }
    policies {
        from-zone trust to-zone trust {
            policy p {
                description "says \\"hi\\"; {braces} [brackets] # not a comment";
                match {
                    source-address any;
                    destination-address s;
                    application [ junos-http junos-https ];
                    inactive: application junos-ssh;
                }
                then {
                    permit;
                    inactive: log {
                        session-init;
                    }
                }
            }
        }
        default-policy {
            deny-all;
        }
    }
}
`,
  );
});

t.test('set form', async (t) => {
  t.equal(
    printSet(canonical(CONFIG)),
    `set security zones security-zone trust interfaces eth0
set security zones security-zone trust host-inbound-traffic system-services ping
set security zones inactive: security-zone lab
set security address-book global address "web server" 192.0.2.10
set security address-book global address-set s address "web server"
set security policies from-zone trust to-zone trust policy p description "says \\"hi\\"; {braces} [brackets] # not a comment"
set security policies from-zone trust to-zone trust policy p match source-address any
set security policies from-zone trust to-zone trust policy p match destination-address s
set security policies from-zone trust to-zone trust policy p match application [ junos-http junos-https ]
set security policies from-zone trust to-zone trust policy p match inactive: application junos-ssh
set security policies from-zone trust to-zone trust policy p then permit
set security policies from-zone trust to-zone trust policy p then inactive: log session-init
set security policies default-policy deny-all
`,
  );
});

t.test('canonical trees survive printing in both forms', async (t) => {
  const c = canonical(CONFIG);
  t.same(plain(parsed(printHierarchical(c))), plain(c), 'parse(printHierarchical(tree)) = tree');
  t.same(plain(canonical(printSet(c))), plain(c), 'normalize(parse(printSet(tree))) = tree');
  t.same(plain(canonical(printHierarchical(c))), plain(c));
  t.same(plain(normalize(c, SCHEMA).tree), plain(c), 'normalising is idempotent');
});

t.test('raw parse trees survive hierarchical printing exactly', async (t) => {
  for (const text of [
    CONFIG,
    'a { } b; c d { e "f g"; }',
    'set a b c\nset inactive: d e\nset f inactive: g h [ i j ]',
    'inactive: "set" x;\n"" "\\\\" "\\n";',
    'x { inactive: y inactive: z; }',
  ]) {
    const tree = parsed(text);
    t.same(plain(parsed(printHierarchical(tree))), plain(tree), text);
  }
});

t.test('words built in code are quoted when they must be', async (t) => {
  const pos = { file: 'x', line: 1, column: 1 };
  const w = (text: string): Word => ({ text, quoted: false, pos });
  const tree: Statement[] = [
    { words: [w('set'), w('a b'), w(''), w('inactive:'), w('#x'), w('/*y'), w('{')], children: null, inactive: false, pos },
  ];
  t.equal(printHierarchical(tree), '"set" "a b" "" "inactive:" "#x" "/*y" "{";\n');
  t.same(
    parsed(printHierarchical(tree))[0].words.map((x) => x.text),
    ['set', 'a b', '', 'inactive:', '#x', '/*y', '{'],
  );
  t.equal(printSet(tree), 'set "set" "a b" "" "inactive:" "#x" "/*y" "{"\n');
  t.equal(printHierarchical([]), '');
  t.equal(printSet([]), '');
});


t.test('random trees survive hierarchical printing', async (t) => {
  const rand = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const pos = { file: 'x', line: 1, column: 1 };
  const bare = ['a', 'b-c', '10.0.0.0/8', '2001:db8::/32', 'x_y.z', 'set', '#', 'é', 'a/*b', 'a#b'];
  const quoted = ['', ' ', 'a b', '"', '\\', '\n', '{;}', '[', ']', 'inactive:', 'set'];
  const word = (first: boolean): Word =>
    rand() < 0.3 ? { text: pick(quoted), quoted: true, pos } : { text: first ? pick(bare.filter((b) => b !== 'set' && b !== '#')) : pick(bare.filter((b) => b !== '#')), quoted: false, pos };
  const statement = (depth: number): Statement => {
    const words = [word(true)];
    while (rand() < 0.5) words.push(word(false));
    if (rand() < 0.2) words.push({ text: '[', quoted: false, pos }, word(false), word(false), { text: ']', quoted: false, pos });
    const children = depth < 4 && rand() < 0.4 ? Array.from({ length: Math.floor(rand() * 4) }, () => statement(depth + 1)) : null;
    return { words, children, inactive: rand() < 0.2, pos };
  };
  for (let i = 0; i < 300; i++) {
    const tree = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => statement(0));
    const again = parse(printHierarchical(tree), 'x');
    if (again.errors.length || JSON.stringify(plain(again.tree)) !== JSON.stringify(plain(tree))) {
      t.fail(`round trip ${i}: ${printHierarchical(tree)} ${again.errors.join('; ')}`);
      return;
    }
  }
  t.pass('300 random trees');
});
