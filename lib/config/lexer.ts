import type { Pos } from './ast.js';
import { ConfigError } from './errors.js';

export type TokenKind = 'word' | 'string' | '{' | '}' | ';' | '[' | ']' | 'newline' | 'eof';

/** `word` is a bare word, `string` a double-quoted one (text already unescaped). */
export interface Token {
  kind: TokenKind;
  text: string;
  pos: Pos;
}

const PUNCTUATION: ReadonlyMap<string, TokenKind> = new Map([
  ['{', '{'],
  ['}', '}'],
  [';', ';'],
  ['[', '['],
  [']', ']'],
]);
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';
}

/** Characters that end a bare word. */
function endsWord(c: string): boolean {
  return isSpace(c) || c === '\n' || c === '"' || PUNCTUATION.has(c);
}

/**
 * Splits configuration text into tokens. Newlines are tokens because they end `set` lines;
 * comments (`#` to end of line, `/* ... *\/`) are dropped. Never throws.
 */
export function tokenize(text: string, file: string): { tokens: Token[]; errors: ConfigError[] } {
  const tokens: Token[] = [];
  const errors: ConfigError[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (at: number): Pos => ({ file, line, column: at - lineStart + 1 });
  const newline = (at: number): void => {
    line++;
    lineStart = at + 1;
  };

  while (i < text.length) {
    const c = text[i];
    const punctuation = PUNCTUATION.get(c);
    if (c === '\n') {
      tokens.push({ kind: 'newline', text: '\n', pos: pos(i) });
      newline(i);
      i++;
    } else if (isSpace(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const start = pos(i);
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') newline(i);
        i++;
      }
      if (i >= text.length) errors.push(ConfigError.at(start, "unterminated comment: missing '*/'"));
      i += 2;
    } else if (punctuation) {
      tokens.push({ kind: punctuation, text: c, pos: pos(i) });
      i++;
    } else if (c === '"') {
      const start = pos(i);
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) {
          errors.push(ConfigError.at(start, 'unterminated string: missing closing \'"\''));
          break;
        }
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < text.length) {
          const e = text[i + 1];
          const decoded = ESCAPES[e];
          if (decoded === undefined) errors.push(ConfigError.at(pos(i), `invalid escape '\\${e}' in string`));
          value += decoded ?? e;
          if (e === '\n') newline(i + 1);
          i += 2;
          continue;
        }
        if (d === '\n') newline(i);
        value += d;
        i++;
      }
      tokens.push({ kind: 'string', text: value, pos: start });
    } else {
      const start = i;
      while (i < text.length && !endsWord(text[i])) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), pos: pos(start) });
    }
  }
  tokens.push({ kind: 'eof', text: '', pos: pos(i) });
  return { tokens, errors };
}
