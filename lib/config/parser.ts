import { EDITS, IGNORED_TAGS, INACTIVE_MARKER, INACTIVE_PATHS, type Edit, type Statement, type Word } from './ast.js';
import { ConfigError, describePos } from './errors.js';
import { tokenize, type Token } from './lexer.js';

export interface ParseResult {
  tree: Statement[];
  errors: ConfigError[];
}

/** Deep enough for any real configuration, shallow enough that nothing recursive overflows. */
const MAX_DEPTH = 64;

/**
 * Parses Junos-style text: hierarchical statements (`a b { c d; }`) and `set a b c d` lines,
 * freely mixed. The parser knows no keywords: a `set` line becomes one statement holding the
 * whole path, and the compiler's schema splits and merges paths (see normalize.ts).
 *
 * `inactive:` before any word of a statement marks the statement starting at that word
 * inactive; words before it become an enclosing statement. So `set a b inactive: c d` parses
 * exactly like `a b { inactive: c d; }`.
 *
 * Collects as many errors as it can and never throws.
 */
export function parse(text: string, file = '<input>'): ParseResult {
  const lexed = tokenize(text, file);
  const parser = new Parser(lexed.tokens);
  const tree = parser.block(0, null);
  return { tree, errors: [...lexed.errors, ...parser.errors] };
}

function isMarker(w: Word): boolean {
  return !w.quoted && w.text === INACTIVE_MARKER;
}

function isIgnoredTag(w: Word): boolean {
  return !w.quoted && IGNORED_TAGS.includes(w.text);
}

function toWord(t: Token): Word {
  return { text: t.text, quoted: t.kind === 'string', pos: t.pos };
}

function isBareSet(t: Token): boolean {
  return t.kind === 'word' && t.text === 'set';
}

/** `delete`, `deactivate` or `activate` opening a set-form line. */
function bareEdit(t: Token): Edit | null {
  return t.kind === 'word' && (EDITS as readonly string[]).includes(t.text) ? (t.text as Edit) : null;
}

function isSetCommand(t: Token): boolean {
  return isBareSet(t) || bareEdit(t) !== null;
}

class Parser {
  readonly errors: ConfigError[] = [];
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private error(t: { pos: Token['pos'] }, message: string): void {
    this.errors.push(ConfigError.at(t.pos, message));
  }

  /** Statements up to the `}` matching `open` (or end of input at depth 0). */
  block(depth: number, open: Token | null): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      const t = this.peek();
      switch (t.kind) {
        case 'newline':
        case ';':
          this.next();
          continue;
        case 'eof':
          if (open) this.error(t, `missing '}' to close the '{' at ${describePos(open.pos, t.pos)}`);
          return out;
        case '}':
          this.next();
          if (open) return out;
          this.error(t, "unexpected '}' without a matching '{'");
          continue;
        case '{':
          this.next();
          this.error(t, "'{' must follow a statement name");
          this.children(depth, t);
          continue;
        default: {
          const s = depth === 0 && isSetCommand(t) ? this.setLine() : this.statement(depth);
          if (s) out.push(s);
        }
      }
    }
  }

  /** The block opened by `open`, or null (after skipping it) when nesting is too deep. */
  private children(depth: number, open: Token): Statement[] | null {
    if (depth + 1 < MAX_DEPTH) return this.block(depth + 1, open);
    this.error(open, `blocks are nested more than ${MAX_DEPTH} deep`);
    let level = 1;
    while (level > 0 && this.peek().kind !== 'eof') {
      const k = this.next().kind;
      if (k === '{') level++;
      else if (k === '}') level--;
    }
    return null;
  }

  private statement(depth: number): Statement | null {
    const words: Token[] = [];
    for (;;) {
      const t = this.peek();
      switch (t.kind) {
        case 'word':
        case 'string':
        case '[':
        case ']':
          words.push(this.next());
          continue;
        case 'newline':
          this.next();
          // A `set` line right after an unterminated statement: report it here, not as a garbled path.
          if (depth === 0 && isSetCommand(this.peek())) {
            this.error(this.peek(), `missing ';' after '${words[words.length - 1].text}'`);
            return this.build(words, null, depth);
          }
          continue;
        case ';':
          this.next();
          return this.build(words, null, depth);
        case '{': {
          this.next();
          const children = this.children(depth, t);
          return children ? this.build(words, children, depth) : null;
        }
        case '}':
        case 'eof':
          this.error(t, `missing ';' or '{' after '${words[words.length - 1].text}'`);
          return this.build(words, null, depth);
      }
    }
  }

  private setLine(): Statement | null {
    const set = this.next();
    const edit = bareEdit(set);
    const words: Token[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'word' || t.kind === 'string' || t.kind === '[' || t.kind === ']') {
        words.push(this.next());
      } else if (t.kind === '{' || t.kind === '}') {
        this.error(t, `'${t.kind}' is not allowed in a set command`);
        while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof') this.next();
        return null;
      } else {
        if (t.kind !== 'eof') this.next();
        break;
      }
    }
    if (words.length === 0) {
      this.error(set, `'${set.text}' must be followed by a statement`);
      return null;
    }
    if (isBareSet(words[0])) {
      this.error(words[0], "a set command cannot start with 'set'; quote it if it is a name");
      return null;
    }
    if (!edit) return this.build(words, null, 0);
    const path = this.checkBrackets(words.map(toWord)).filter((w) => !isMarker(w) && !isIgnoredTag(w));
    return path.length ? { words: path, children: null, inactive: false, pos: path[0].pos, edit } : null;
  }

  /** Checks list brackets, then splits the words at `inactive:` markers. */
  private build(tokens: Token[], children: Statement[] | null, depth: number): Statement | null {
    const words = this.checkBrackets(tokens.map(toWord).filter((w) => !isIgnoredTag(w)));
    const markers = words.filter(isMarker).length;
    if (depth + markers >= MAX_DEPTH) {
      this.error(words[0], `statement is nested more than ${MAX_DEPTH} deep`);
      return null;
    }
    return this.split(words, children);
  }

  /** Drops (and reports) brackets that do not form a flat, non-empty `[ ... ]` list. */
  private checkBrackets(words: Word[]): Word[] {
    const out: Word[] = [];
    let open: Word | null = null;
    for (const w of words) {
      if (w.quoted || (w.text !== '[' && w.text !== ']' && w.text !== INACTIVE_MARKER)) {
        out.push(w);
      } else if (w.text === INACTIVE_MARKER) {
        if (open) this.error(w, `'${INACTIVE_MARKER}' cannot appear inside a list`);
        else out.push(w);
      } else if (w.text === '[') {
        if (open) this.error(w, "lists cannot be nested: unexpected '['");
        else {
          open = w;
          out.push(w);
        }
      } else if (!open) {
        this.error(w, "unexpected ']' without a matching '['");
      } else if (out[out.length - 1] === open) {
        this.error(open, 'empty list');
        out.pop();
        open = null;
      } else {
        out.push(w);
        open = null;
      }
    }
    if (open) {
      this.error(open, "missing ']' to close this list");
      out.splice(out.indexOf(open), 1);
    }
    return out;
  }

  private split(words: Word[], children: Statement[] | null): Statement | null {
    let k = 0;
    while (k < words.length && isMarker(words[k])) k++;
    if (k === words.length) {
      if (words.length > 0) this.error(words[words.length - 1], `'${INACTIVE_MARKER}' must be followed by a statement`);
      return null;
    }
    const inactive = k > 0;
    let m = k + 1;
    while (m < words.length && !isMarker(words[m])) m++;
    if (m === words.length) return { words: words.slice(k), children, inactive, pos: words[k].pos };
    const inner = this.split(words.slice(m), children);
    const path: Statement = { words: words.slice(k, m), children: inner ? [inner] : null, inactive, pos: words[k].pos };
    INACTIVE_PATHS.add(path);
    return path;
  }
}
