import { INACTIVE_MARKER, type Statement, type Word } from './ast.js';

const INDENT = '    ';
const ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

function needsQuotes(text: string): boolean {
  return text === '' || text === INACTIVE_MARKER || /[\s{};[\]"]/.test(text) || text.startsWith('#') || text.startsWith('/*');
}

function formatWord(w: Word, topLevelFirst: boolean): string {
  if (!w.quoted && (w.text === '[' || w.text === ']')) return w.text;
  // A bare `set` opening a top-level statement would be read back as a set command.
  if (w.quoted || needsQuotes(w.text) || (topLevelFirst && w.text === 'set')) {
    return `"${w.text.replace(/["\\\n\t\r]/g, (c) => ESCAPES[c])}"`;
  }
  return w.text;
}

function formatStatement(s: Statement, topLevel: boolean): string {
  const words = s.words.map((w, i) => formatWord(w, topLevel && i === 0 && !s.inactive)).join(' ');
  return s.inactive ? `${INACTIVE_MARKER} ${words}` : words;
}

/** Normalised hierarchical form: one statement per line, four-space indent, Junos style. */
export function printHierarchical(tree: readonly Statement[]): string {
  const out: string[] = [];
  const emit = (stmts: readonly Statement[], indent: string): void => {
    for (const s of stmts) {
      const head = indent + formatStatement(s, indent === '');
      if (s.children === null) out.push(`${head};`);
      else if (s.children.length === 0) out.push(`${head} { }`);
      else {
        out.push(`${head} {`);
        emit(s.children, indent + INDENT);
        out.push(`${indent}}`);
      }
    }
  };
  emit(tree, '');
  return out.length ? `${out.join('\n')}\n` : '';
}

/** One `set` line per leaf (or childless container), in tree order. */
export function printSet(tree: readonly Statement[]): string {
  const out: string[] = [];
  const walk = (stmts: readonly Statement[], prefix: string): void => {
    for (const s of stmts) {
      const path = prefix ? `${prefix} ${formatStatement(s, false)}` : formatStatement(s, true);
      if (s.children && s.children.length > 0) walk(s.children, path);
      else out.push(`set ${path}`);
    }
  };
  walk(tree, '');
  return out.length ? `${out.join('\n')}\n` : '';
}
