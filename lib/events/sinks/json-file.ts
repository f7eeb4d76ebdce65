// JSON lines appended to a file, reopened with backoff if writing fails (a
// full disk, a removed directory).
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Formatter } from '../formats/context.js';
import { StreamSink, type Backoff } from './stream.js';

export interface JsonFileOptions {
  path: string;
  /** The json formatter (lib/events/formats). */
  format: Formatter;
  capacity: number;
  backoff: Backoff;
}

export class JsonFileSink extends StreamSink {
  private readonly path: string;

  constructor(o: JsonFileOptions) {
    super(`json-file ${o.path}`, o.format, o.capacity, o.backoff);
    this.path = o.path;
    this.start();
  }

  protected open(): Writable {
    return createWriteStream(this.path, { flags: 'a' });
  }

  protected frame(line: string): string {
    return `${line}\n`;
  }
}
