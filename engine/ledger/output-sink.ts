import type { EventEmitter } from 'node:events';

/** stdout as CommandIo types it; at run time it is often a stream that emits events. */
type Writable = { write(text: string): unknown } & Partial<Pick<EventEmitter, 'on' | 'off'>> & {
  end?: (callback: () => void) => unknown;
  destroyed?: boolean;
};

/**
 * A destination for long output, such as an export, that waits when the stream's buffer is full
 * and notices when the reader has gone. A pipe whose reader exited (`aishell audit export | head`)
 * fails with EPIPE or simply closes. `readerGone` then turns true and further writes are dropped.
 * So the command ends quietly, instead of crashing on an unhandled 'error' event or waiting for a
 * 'drain' that never comes. Other stream errors are thrown by the next `write` or `end`.
 */
export class OutputSink {
  private gone = false;
  private failure: Error | undefined;

  constructor(private readonly stream: Writable) {
    // Stays attached: an EPIPE can still arrive after the last write.
    stream.on?.('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') {
        this.gone = true;
      } else {
        this.failure ??= error;
      }
    });
    stream.on?.('close', () => {
      this.gone = true;
    });
  }

  get readerGone(): boolean {
    return this.gone || this.stream.destroyed === true;
  }

  async write(text: string): Promise<void> {
    this.throwFailure();
    if (this.readerGone) {
      return;
    }
    if (this.stream.write(text) === false && !this.readerGone) {
      await this.settle('drain');
    }
    this.throwFailure();
  }

  /** Ends a stream that has an end, such as the --out file, and waits until it is flushed. */
  async end(): Promise<void> {
    if (this.stream.end && !this.readerGone) {
      const finished = this.settle('finish');
      this.stream.end(() => undefined);
      await finished;
    }
    this.throwFailure();
  }

  /** Waits for `event`, or for an error or close that means it will never come. */
  private settle(event: string): Promise<void> {
    const { on, off } = this.stream;
    if (!on || !off) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        for (const name of [event, 'error', 'close']) {
          off.call(this.stream, name, done);
        }
        resolve();
      };
      for (const name of [event, 'error', 'close']) {
        on.call(this.stream, name, done);
      }
    });
  }

  private throwFailure(): void {
    if (this.failure) {
      throw this.failure;
    }
  }
}
