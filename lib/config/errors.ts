import type { Pos } from './ast.js';

const MAX_MESSAGE = 300;

/** One line of printable text: words quoted from the input may hold anything. */
function printable(message: string): string {
  const clean = message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE)}...` : clean;
}

/** A configuration error at a source position. Not an Error: errors are collected, not thrown. */
export class ConfigError {
  readonly message: string;

  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    this.message = printable(message);
  }

  static at(pos: Pos, message: string): ConfigError {
    return new ConfigError(pos.file, pos.line, pos.column, message);
  }

  toString(): string {
    return `${this.file}:${this.line}:${this.column}: ${this.message}`;
  }
}

/** Collects errors of one phase. */
export class Diagnostics {
  readonly errors: ConfigError[] = [];
  /** What the config has that is not applied, though it loads (`status` repeats them). */
  readonly warnings: ConfigError[] = [];

  error(pos: Pos, message: string): void {
    this.errors.push(ConfigError.at(pos, message));
  }

  warn(pos: Pos, message: string): void {
    this.warnings.push(ConfigError.at(pos, message));
  }
}

/** Errors in source order (stable for errors at the same position). */
export function sortErrors(errors: readonly ConfigError[]): ConfigError[] {
  return [...errors].sort(
    (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column,
  );
}

/** "line 3, column 5" (plus the file when it differs) for messages that point at another place. */
export function describePos(pos: Pos, from: Pos): string {
  const where = `line ${pos.line}, column ${pos.column}`;
  return pos.file === from.file ? where : `${pos.file} ${where}`;
}
