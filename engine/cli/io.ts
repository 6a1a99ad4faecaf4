import type { Readable } from 'node:stream';

/**
 * What a command reads and writes. The CLI entry point passes the process's streams; tests pass
 * buffers, so a command's output and exit code can be checked without spawning a process.
 */
export interface CommandIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A subcommand: parses its own arguments and returns the process exit code. */
export type Command = (args: string[], io: CommandIo) => Promise<number>;
