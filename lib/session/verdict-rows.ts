// The sessions' cached filter verdicts, shared. xdpfw_verdict_rows holds one
// row per distinct combination of a session's four verdicts (client and
// server direction, input and output filter; struct xdpfw_verdict_row), and
// each session entry names its row, so flows judged by the same filters and
// terms cost one row between them instead of 80 bytes each. This module owns
// the rows: it finds or writes the row of a session's filters, counts the
// sessions on each, and takes a row back once no session uses it. Row 0 is
// never written (all zero: no filter in either direction) and never counted.
import { DIRECTION_VERDICTS, VERDICT_ROW } from '../dataplane/layout.js';
import { mapLookup, mapUpdate } from '../dataplane/native.js';
import { NO_FILTER, decodeFilterDescriptor, encodeFilterDescriptor, type FilterDescriptor } from '../filter/descriptor.js';
import type { DirectionFilters, SessionFilters } from './types.js';

const IN = DIRECTION_VERDICTS.offset.input;
const OUT = DIRECTION_VERDICTS.offset.output;
const DIR = VERDICT_ROW.offset.dir;

export class VerdictRows {
  /** Row of each combination written, by its content. */
  private readonly byContent = new Map<string, number>();
  /** Content of each row in use (undefined: free). */
  private readonly contentOf: Array<string | undefined> = [];
  /** Sessions on each row. */
  private readonly refs: Uint32Array;
  /** Rows given back, reused oldest first (a packet still on a session just closed reads the row a while longer). */
  private freed: number[] = [];
  private freedHead = 0;
  /** Rows above this were never handed out by this run. */
  private fresh = 1;
  private held = 0;
  /** Filters of the rows adopt() read, so a row many adopted sessions name is read once. */
  private readonly adopted = new Map<number, SessionFilters>();
  private readonly key = Buffer.alloc(4);
  private readonly value = Buffer.alloc(VERDICT_ROW.size);

  /** `fd`: xdpfw_verdict_rows; `capacity`: its max_entries (XDPFW_MAX_VERDICT_ROWS). */
  constructor(private readonly fd: number, readonly capacity: number) {
    this.refs = new Uint32Array(capacity);
  }

  /** Rows in use (row 0 not counted). */
  get inUse(): number {
    return this.held;
  }

  /** Sessions counted on a row. */
  sessionsOn(row: number): number {
    return row > 0 && row < this.capacity ? this.refs[row]! : 0;
  }

  /**
   * The row of these filters, written now if no session holds it yet, with one more session
   * counted on it; 0 for no filter anywhere; null when every row is taken. Throws when the map
   * refuses the write (nothing is counted then).
   */
  acquire(filters: SessionFilters): number | null {
    const name = contentName(filters);
    if (name === NONE) return 0;
    let row = this.byContent.get(name);
    if (row === undefined) {
      const free = this.take();
      if (free === null) return null;
      encodeRow(filters, this.value);
      this.key.writeUInt32LE(free);
      try {
        mapUpdate(this.fd, this.key, this.value);
      } catch (err) {
        this.freed.push(free);
        throw err;
      }
      row = free;
      this.byContent.set(name, row);
      this.contentOf[row] = name;
      this.held++;
    }
    this.refs[row]!++;
    return row;
  }

  /** One session fewer on `row`; a row nobody uses is free again. */
  release(row: number): void {
    if (row <= 0 || row >= this.capacity || this.refs[row] === 0) return;
    if (--this.refs[row]! > 0) return;
    const name = this.contentOf[row];
    if (name !== undefined && this.byContent.get(name) === row) this.byContent.delete(name);
    this.contentOf[row] = undefined;
    this.adopted.delete(row);
    this.held--;
    this.freed.push(row);
  }

  /**
   * A session adopted from the pinned maps names `row`: counted on it, the row's filters as the
   * map holds them; null for a row outside the table (the session cannot be adopted as it is).
   */
  adopt(row: number): SessionFilters | null {
    if (row === 0) return NONE_FILTERS;
    if (row < 0 || row >= this.capacity) return null;
    let filters = this.refs[row] === 0 ? undefined : this.adopted.get(row);
    if (!filters) {
      this.key.writeUInt32LE(row);
      if (!mapLookup(this.fd, this.key, this.value)) return null;
      filters = decodeRow(this.value);
      this.adopted.set(row, filters);
    }
    if (this.refs[row] === 0) {
      const name = contentName(filters);
      // Two rows of one content (never written so by this module): the first one found is reused.
      if (!this.byContent.has(name)) this.byContent.set(name, row);
      this.contentOf[row] = name;
      this.held++;
    }
    this.refs[row]!++;
    return filters;
  }

  /** A free row: one given back (oldest first), else one never used. */
  private take(): number | null {
    while (this.freedHead < this.freed.length) {
      const row = this.freed[this.freedHead++]!;
      if (this.freedHead > 1024 && this.freedHead * 2 > this.freed.length) {
        this.freed = this.freed.slice(this.freedHead);
        this.freedHead = 0;
      }
      // A row can be listed twice (freed, taken fresh, freed again): in use means taken.
      if (this.refs[row] === 0 && this.contentOf[row] === undefined) return row;
    }
    while (this.fresh < this.capacity && (this.refs[this.fresh] !== 0 || this.contentOf[this.fresh] !== undefined)) this.fresh++;
    return this.fresh < this.capacity ? this.fresh++ : null;
  }
}

/** The filters of a session with no filter in either direction (row 0). */
export const NONE_FILTERS: SessionFilters = Object.freeze({
  client: Object.freeze({ input: NO_FILTER, output: NO_FILTER }),
  server: Object.freeze({ input: NO_FILTER, output: NO_FILTER }),
});

function descriptorName(d: FilterDescriptor): string {
  return `${d.filterId},${d.termId},${d.counter},${d.tableId},${d.action},${d.flags},${d.rejectReason},${d.program}`;
}

function contentName(f: SessionFilters): string {
  return `${descriptorName(f.client.input)};${descriptorName(f.client.output)};${descriptorName(f.server.input)};${descriptorName(f.server.output)}`;
}

const NONE = contentName(NONE_FILTERS);

/** struct xdpfw_verdict_row of a session's filters. */
export function encodeRow(f: SessionFilters, out: Buffer): void {
  out.fill(0, 0, VERDICT_ROW.size);
  const dirs: DirectionFilters[] = [f.client, f.server];
  dirs.forEach((d, i) => {
    const at = DIR + i * DIRECTION_VERDICTS.size;
    encodeFilterDescriptor(d.input, out, at + IN);
    encodeFilterDescriptor(d.output, out, at + OUT);
  });
}

export function decodeRow(v: Buffer): SessionFilters {
  const dir = (i: number): DirectionFilters => {
    const at = DIR + i * DIRECTION_VERDICTS.size;
    return { input: decodeFilterDescriptor(v, at + IN), output: decodeFilterDescriptor(v, at + OUT) };
  };
  return { client: dir(0), server: dir(1) };
}
