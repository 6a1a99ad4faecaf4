import { PassThrough } from 'node:stream';
import { main } from '../../engine/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the aishell CLI in this process with captured output, as `aishell …args` would. */
export async function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.end();
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin,
    // HOME defaults to the test's directory, so the default ledger and vault paths
    // (~/.aishell/…) never point into the real home directory.
    env: { HOME: options.cwd, ...options.env },
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}
