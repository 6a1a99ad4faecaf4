/**
 * Storage for ledger lines. A backend stores and returns the exact canonical bytes of each
 * record; hashing, sequencing and verification live in the ledger, so both backends share them.
 */
export interface LedgerBackend {
  /** Where the ledger is, for messages: a file path or a database URL without its password. */
  readonly location: string;

  /** Runs `task` while holding the exclusive write lock, so seq numbers stay in one total order. */
  exclusive<T>(task: (writer: BackendWriter) => Promise<T>): Promise<T>;

  /** Every complete line in storage order, corrupt ones included, for verification and reading. */
  scan(): AsyncIterable<Buffer>;

  /** Bytes after the last complete line, left by an interrupted write, if any. */
  tornTail(): Promise<Buffer | undefined>;

  /** Tells whether the ledger's file or table exists; reading never creates it. */
  exists(): Promise<boolean>;

  close(): Promise<void>;
}

/** Operations that are only valid while the write lock is held. */
export interface BackendWriter {
  /** The last complete line, or undefined for an empty ledger. */
  lastLine(): Promise<Buffer | undefined>;

  /**
   * The lines from the last one whose record kind is `kind` to the end, in storage order; all
   * lines when there is none.
   */
  linesSinceLast(kind: string): Promise<Buffer[]>;

  /** Appends lines durably (fsync or commit) before returning. */
  append(lines: Buffer[]): Promise<void>;

  /** Bytes after the last complete line, left by an interrupted write, if any. */
  tornTail(): Promise<Buffer | undefined>;

  /** Cuts an incomplete last line; returns what was removed. */
  removeTornTail(): Promise<Buffer | undefined>;

  /** Ends the bytes after the last complete line with a newline, making them a complete line. */
  terminateTornTail(): Promise<void>;

  /** Deletes every record with seq below `seq` (retention). A marker must already be appended. */
  deleteBefore(seq: number): Promise<number>;
}

/** Reads the `kind` of a stored line without trusting the rest of it. */
export function kindOf(line: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(line.toString('utf8')) as { kind?: unknown };
    return typeof parsed.kind === 'string' ? parsed.kind : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the `seq` of a stored line without trusting the rest of it. */
export function seqOf(line: Buffer): number | undefined {
  try {
    const parsed = JSON.parse(line.toString('utf8')) as { seq?: unknown };
    return typeof parsed.seq === 'number' ? parsed.seq : undefined;
  } catch {
    return undefined;
  }
}
