import { createReadStream } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

import lockfile from 'proper-lockfile';

import { fsyncDirectory, writeFileAtomic } from './atomic-file.js';
import { kindOf, seqOf, type BackendWriter, type LedgerBackend } from './backend.js';
import { LedgerError } from './errors.js';

const NEWLINE = 0x0a;
const TAIL_CHUNK = 16 * 1024;

/**
 * A ledger in one JSON Lines file. Writers take a lock directory (`<path>.lock`, refreshed while
 * held and taken over after 10 s without a refresh), append whole lines with one write, and
 * fdatasync before releasing it.
 */
export class FileBackend implements LedgerBackend {
  readonly location: string;

  constructor(readonly path: string) {
    this.location = path;
  }

  async exclusive<T>(task: (writer: BackendWriter) => Promise<T>): Promise<T> {
    const directory = dirname(this.path);
    await mkdir(directory, { recursive: true, mode: 0o700 });

    let compromised: Error | undefined;
    const release = await lockfile.lock(this.path, {
      realpath: false,
      stale: 10_000,
      // Waits up to about a minute for other writers, each of which keeps the lock for one append.
      retries: { retries: 600, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true },
      onCompromised: (error) => {
        compromised = error;
      },
    });

    const handle = await open(this.path, 'a+', 0o600);
    try {
      const created = (await handle.stat()).size === 0;
      if (created) {
        await fsyncDirectory(directory);
      }
      const result = await task(new FileWriter(this.path, handle));
      if (compromised) {
        throw new LedgerError('LEDGER_IO', `lost the lock on ${this.path} while writing: ${compromised.message}`);
      }
      return result;
    } finally {
      await handle.close();
      await release().catch(() => undefined);
    }
  }

  async *scan(): AsyncIterable<Buffer> {
    let stream;
    try {
      await stat(this.path);
      stream = createReadStream(this.path, { highWaterMark: 1024 * 1024 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return;
      }
      throw error;
    }

    let pending: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let end = chunk.indexOf(NEWLINE, start);
      while (end >= 0) {
        const piece = chunk.subarray(start, end);
        if (pending.length > 0) {
          pending.push(piece);
          yield Buffer.concat(pending);
          pending = [];
        } else {
          yield piece;
        }
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
      }
    }
  }

  async tornTail(): Promise<Buffer | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw error;
    }
    try {
      return (await readTail(handle)).torn;
    } finally {
      await handle.close();
    }
  }

  async exists(): Promise<boolean> {
    try {
      await stat(this.path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return false;
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    // Every operation opens and closes its own file handle.
  }
}

class FileWriter implements BackendWriter {
  /** The last complete line and the bytes after it, read once per append. */
  private cachedTail: { line: Buffer | undefined; torn: Buffer | undefined } | undefined;

  constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  private async tail(): Promise<{ line: Buffer | undefined; torn: Buffer | undefined }> {
    if (!this.cachedTail) {
      const tail = await readTail(this.handle, 1);
      this.cachedTail = { line: tail.lines[tail.lines.length - 1], torn: tail.torn };
    }
    return this.cachedTail;
  }

  async lastLine(): Promise<Buffer | undefined> {
    return (await this.tail()).line;
  }

  async tornTail(): Promise<Buffer | undefined> {
    return (await this.tail()).torn;
  }

  async linesSinceLast(kind: string): Promise<Buffer[]> {
    // The substring test skips JSON parsing for almost every line; kindOf confirms a match.
    const marker = `"kind":${JSON.stringify(kind)}`;
    const tail = await readTail(this.handle, Number.POSITIVE_INFINITY, (line) => line.includes(marker) && kindOf(line) === kind);
    return tail.lines;
  }

  async append(lines: Buffer[]): Promise<void> {
    if (lines.length === 0) {
      return;
    }
    const data = Buffer.concat(lines.flatMap((line) => [line, Buffer.from([NEWLINE])]));
    this.cachedTail = undefined;
    await this.write(data);
  }

  async removeTornTail(): Promise<Buffer | undefined> {
    const { line, torn } = await this.tail();
    if (!torn) {
      return undefined;
    }
    const size = (await this.handle.stat()).size;
    await this.handle.truncate(size - torn.length);
    await this.handle.datasync();
    this.cachedTail = { line, torn: undefined };
    return torn;
  }

  async terminateTornTail(): Promise<void> {
    const { torn } = await this.tail();
    if (!torn) {
      return;
    }
    await this.write(Buffer.from([NEWLINE]));
    this.cachedTail = { line: torn, torn: undefined };
  }

  /** Writes at the end of the file: it is opened with O_APPEND, so even after a truncate. */
  private async write(data: Buffer): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written);
      written += bytesWritten;
    }
    await this.handle.datasync();
  }

  async deleteBefore(seq: number): Promise<number> {
    const kept: Buffer[] = [];
    let removed = 0;
    const backend = new FileBackend(this.path);
    for await (const line of backend.scan()) {
      const lineSeq = seqOf(line);
      if (lineSeq !== undefined && lineSeq < seq) {
        removed += 1;
      } else {
        kept.push(line, Buffer.from([NEWLINE]));
      }
    }
    // NOTE: the rewrite replaces the file by rename, so only a lock holder may call this. Readers
    // that opened the old file keep reading the old copy until they reopen it.
    await writeFileAtomic(this.path, Buffer.concat(kept), 0o600);
    return removed;
  }
}

/**
 * Reads complete lines backwards from the end of the file until `count` lines are collected or
 * `stop` matches a line (which is included). Also returns the bytes after the last newline.
 */
async function readTail(
  handle: FileHandle,
  count = 1,
  stop?: (line: Buffer) => boolean,
): Promise<{ lines: Buffer[]; torn?: Buffer }> {
  const size = (await handle.stat()).size;
  // Collected newest first and reversed at the end; unshift would be quadratic.
  const lines: Buffer[] = [];
  let torn: Buffer | undefined;
  let carry = Buffer.alloc(0);
  let position = size;
  let first = true;

  while (position > 0) {
    const length = Math.min(TAIL_CHUNK, position);
    position -= length;
    const chunk = Buffer.alloc(length);
    await handle.read(chunk, 0, length, position);
    let buffer = Buffer.concat([chunk, carry]);

    if (first) {
      first = false;
      const lastNewline = buffer.lastIndexOf(NEWLINE);
      if (lastNewline !== buffer.length - 1) {
        if (lastNewline < 0 && position > 0) {
          carry = buffer;
          first = true;
          continue;
        }
        torn = Buffer.from(buffer.subarray(lastNewline + 1));
        buffer = buffer.subarray(0, lastNewline + 1);
      }
      // Drop the final newline so that splitting yields complete lines only.
      buffer = buffer.subarray(0, Math.max(buffer.length - 1, 0));
      if (buffer.length === 0 && position === 0) {
        break;
      }
    }

    let end = buffer.length;
    // A negative offset would make lastIndexOf search from the end again, hence the guard.
    let index = end > 0 ? buffer.lastIndexOf(NEWLINE, end - 1) : -1;
    while (index >= 0) {
      const line = Buffer.from(buffer.subarray(index + 1, end));
      lines.push(line);
      if (lines.length >= count || stop?.(line)) {
        return { lines: lines.reverse(), torn };
      }
      end = index;
      index = end > 0 ? buffer.lastIndexOf(NEWLINE, end - 1) : -1;
    }
    carry = Buffer.from(buffer.subarray(0, end));
  }

  if (carry.length > 0) {
    lines.push(carry);
  }
  return { lines: lines.reverse(), torn };
}
