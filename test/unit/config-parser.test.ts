import t from 'tap';
import type { Statement } from '../../lib/config/ast.js';
import { tokenize } from '../../lib/config/lexer.js';
import { parse } from '../../lib/config/parser.js';

/** A position-free view: words (quoted ones in quotes), children, `!` for inactive. */
type Shape = [string, Shape[] | null] | [string, Shape[] | null, '!'];
function shape(tree: Statement[]): Shape[] {
  return tree.map((s) => {
    const words = s.words.map((w) => (w.quoted ? JSON.stringify(w.text) : w.text)).join(' ');
    const kids = s.children && shape(s.children);
    return s.inactive ? [words, kids, '!'] : [words, kids];
  });
}

function ok(text: string): Shape[] {
  const r = parse(text, 'p.conf');
  if (r.errors.length) throw new Error(r.errors.join('\n'));
  return shape(r.tree);
}

function errors(text: string): string[] {
  return parse(text, 'p.conf').errors.map(String);
}

t.test('hierarchical statements', async (t) => {
  t.same(ok('a b { c d; e { f; } }\ng;'), [
    ['a b', [['c d', null], ['e', [['f', null]]]]],
    ['g', null],
  ]);
  t.same(ok('a { }'), [['a', []]]);
  t.same(ok('a;;;  ;b;'), [['a', null], ['b', null]], 'stray semicolons are ignored');
});

t.test('set lines: one statement per line, words as a path', async (t) => {
  t.same(ok('set a b c d\nset e f'), [['a b c d', null], ['e f', null]]);
  t.same(ok('set a b; set c d\n'), [['a b', null], ['c d', null]], "';' ends a set command too");
  t.same(ok('a { set x; }'), [['a', [['set x', null]]]], "'set' is an ordinary word inside a block");
});

t.test('mixed hierarchical and set', async (t) => {
  t.same(ok('a { b; }\nset a c\nd e;\nset f'), [
    ['a', [['b', null]]],
    ['a c', null],
    ['d e', null],
    ['f', null],
  ]);
});

t.test('comments', async (t) => {
  t.same(ok('# top\na { # trailing\n  b; /* block\n spanning */ c;\n}\nset d # comment\n'), [
    ['a', [['b', null], ['c', null]]],
    ['d', null],
  ]);
  t.same(ok('a/*b;'), [['a/*b', null]], 'comment markers only start a comment at a word boundary');
});

t.test('quoted strings and escapes', async (t) => {
  const r = parse('description "a \\"quoted\\" word; {x} \\\\ \\n\\t";', 'p.conf');
  t.same(r.errors, []);
  t.equal(r.tree[0].words[1].text, 'a "quoted" word; {x} \\ \n\t');
  t.equal(r.tree[0].words[1].quoted, true);
  t.same(ok('a "" "two\nlines";'), [['a "" "two\\nlines"', null]]);
});

t.test('lists are words, brackets included', async (t) => {
  t.same(ok('application [ junos-http junos-https ];'), [['application [ junos-http junos-https ]', null]]);
  t.same(ok('set x members [a b]'), [['x members [ a b ]', null]]);
  t.same(ok('a "[" "]";'), [['a "[" "]"', null]], 'quoted brackets are plain words');
});

t.test('inactive: marks the statement at the next word', async (t) => {
  t.same(ok('inactive: a { b; }'), [['a', [['b', null]], '!']]);
  t.same(ok('a { inactive: b c; d; }'), [['a', [['b c', null, '!'], ['d', null]]]]);
  t.same(ok('set inactive: a b'), [['a b', null, '!']]);
  t.same(ok('set a b inactive: c d'), [['a b', [['c d', null, '!']]]]);
  t.same(ok('set a b inactive: c d'), ok('a b { inactive: c d; }'), 'a mid-path marker equals the nested form');
  t.same(ok('a "inactive:";'), [['a "inactive:"', null]], 'a quoted marker is a word');
});

t.test('positions are 1-based line and column', async (t) => {
  const r = parse('a {\n  bb "c d";\n}\nset x y', 'f.conf');
  const [a, x] = r.tree;
  t.same(a.pos, { file: 'f.conf', line: 1, column: 1 });
  const bb = (a.children ?? [])[0];
  t.same(bb.words.map((w) => [w.pos.line, w.pos.column]), [
    [2, 3],
    [2, 6],
  ]);
  t.same(x.words.map((w) => [w.pos.line, w.pos.column]), [
    [4, 5],
    [4, 7],
  ]);
});

t.test('lexer: CRLF, tabs and unicode', async (t) => {
  const { tokens, errors } = tokenize('a\r\n\tb "é"', 'f');
  t.same(errors, []);
  t.same(
    tokens.map((k) => [k.kind, k.text, k.pos.line, k.pos.column]),
    [
      ['word', 'a', 1, 1],
      ['newline', '\n', 1, 3],
      ['word', 'b', 2, 2],
      ['string', 'é', 2, 4],
      ['eof', '', 2, 7],
    ],
  );
});

t.test('syntax errors carry file:line:column and parsing goes on', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    ['unterminated string', 'a "b;\n', ['p.conf:1:3: unterminated string: missing closing \'"\'', "p.conf:2:1: missing ';' or '{' after 'b;\\n'"]],
    ['unterminated comment', 'a; /* x\n', ["p.conf:1:4: unterminated comment: missing '*/'"]],
    ['invalid escape', 'a "x\\qy";', ["p.conf:1:5: invalid escape '\\q' in string"]],
    ['unexpected }', 'a;\n}\nb;', ["p.conf:2:1: unexpected '}' without a matching '{'"]],
    ['missing }', 'a {\n  b;\n', ["p.conf:3:1: missing '}' to close the '{' at line 1, column 3"]],
    ['{ without a name', '{ a; }', ["p.conf:1:1: '{' must follow a statement name"]],
    ['missing ; before }', 'a { b c }', ["p.conf:1:9: missing ';' or '{' after 'c'"]],
    ['missing ; at end', 'a b', ["p.conf:1:4: missing ';' or '{' after 'b'"]],
    ['missing ; before a set line', 'a b\nset c d\n', ["p.conf:2:1: missing ';' after 'b'"]],
    ['brace in a set line', 'set a { b }\nset c\n', ["p.conf:1:7: '{' is not allowed in a set command"]],
    ['bare set', 'set\nset a\n', ["p.conf:1:1: 'set' must be followed by a statement"]],
    ['set set', 'set set a\n', ["p.conf:1:5: a set command cannot start with 'set'; quote it if it is a name"]],
    ['nested list', 'a [ b [ c ] ];', ["p.conf:1:7: lists cannot be nested: unexpected '['", "p.conf:1:13: unexpected ']' without a matching '['"]],
    ['unmatched ]', 'a b ];', ["p.conf:1:5: unexpected ']' without a matching '['"]],
    ['empty list', 'a [ ];', ['p.conf:1:3: empty list']],
    ['missing ]', 'a [ b c;', ["p.conf:1:3: missing ']' to close this list"]],
    ['marker in a list', 'a [ b inactive: c ];', ["p.conf:1:7: 'inactive:' cannot appear inside a list"]],
    ['dangling marker', 'a inactive:;\ninactive:;', ["p.conf:1:3: 'inactive:' must be followed by a statement", "p.conf:2:1: 'inactive:' must be followed by a statement"]],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
  const r = parse('a { b }\nc;\nd { e; }\n', 'p.conf');
  t.same(shape(r.tree), [['a', [['b', null]]], ['c', null], ['d', [['e', null]]]], 'statements after an error are kept');
});

t.test('nesting depth is bounded', async (t) => {
  const deep = '{'.repeat(1000) + '}'.repeat(1000);
  const r = parse(`a ${'b { '.repeat(100)}${'} '.repeat(100)}\n${deep}`, 'p.conf');
  t.ok(r.errors.some((e) => e.message === 'blocks are nested more than 64 deep'));
  const markers = parse(`set ${'a inactive: '.repeat(100)}b`, 'p.conf');
  t.same(markers.errors.map(String), ['p.conf:1:5: statement is nested more than 64 deep']);
});
