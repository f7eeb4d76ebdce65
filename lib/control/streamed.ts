// A long answer (a session listing) sent as it is produced: chunks, each on
// its own response line marked `more: true`, then the last line. The producer
// awaits each write, so a slow reader slows the producer instead of growing
// the daemon's memory, and a reader that hangs up stops it.

/** Thrown into the producer by `write` once the reader is gone. */
export class ReaderGone extends Error {
  constructor() {
    super('the reader went away');
  }
}

export type ChunkWriter = (chunk: unknown) => Promise<void>;

/** What a command handler returns for a streamed answer: `run` writes chunks and returns the last line's data. */
export class StreamedAnswer {
  constructor(readonly run: (write: ChunkWriter) => Promise<unknown>) {}
}
