import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildVaultForChildren, makeTempVault, PASSWORD } from './helpers.js';

let build: { entry: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  build = await buildVaultForChildren();
});
afterAll(async () => {
  await build?.cleanup();
});

/** Runs the vault CLI in a child process whose stdin and stdout are a pseudo-terminal (util-linux `script`). */
const CHILD = `
const [cliPath, ...args] = process.argv.slice(2);
const { runVaultCommand } = await import(cliPath);
const code = await runVaultCommand(args, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() });
process.exitCode = code;
`;

/** Starts the child on a terminal, answers each prompt once it appears, and returns all terminal output. */
function runOnTerminal(script: string, args: string[], env: NodeJS.ProcessEnv, answers: string[]): Promise<{ output: string; code: number | null }> {
  const command = [process.execPath, script, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let sinceAnswer = '';
  let answered = 0;
  return new Promise((resolve, reject) => {
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      sinceAnswer += chunk.toString('utf8');
      // Answer only once a prompt is shown, because by then the terminal is in raw mode. The
      // terminal driver itself would echo input sent earlier.
      if (answered < answers.length && /: $/.test(sinceAnswer)) {
        child.stdin.write(`${answers[answered]}\r`);
        answered += 1;
        sinceAnswer = '';
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('error', reject);
    child.on('close', (code) => resolve({ output, code }));
  });
}

describe('vault hidden prompt', () => {
  it('reads the master password from a terminal without echo', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('prompted', 'value-shown-by-retrieve');
      const script = join(temp.dir, 'child.mjs');
      await writeFile(script, CHILD);
      const cli = build.entry.replace(/index\.js$/, 'cli.js');
      const env = { ...temp.env, PATH: process.env.PATH, TERM: 'dumb', AISHELL_VAULT_PATH: temp.path };

      const { output, code } = await runOnTerminal(script, [cli, 'retrieve', 'prompted'], env, [PASSWORD]);
      expect(code, output).toBe(0);
      expect(output).toContain(`Master password for ${temp.path}: `);
      expect(output).toContain('value-shown-by-retrieve');
      expect(output).not.toContain(PASSWORD);
    } finally {
      await temp.cleanup();
    }
  });

  it('asks for a stored value twice', async () => {
    const temp = await makeTempVault();
    try {
      const script = join(temp.dir, 'child.mjs');
      await writeFile(script, CHILD);
      const cli = build.entry.replace(/index\.js$/, 'cli.js');
      const env = { ...temp.env, PATH: process.env.PATH, TERM: 'dumb', AISHELL_VAULT_PATH: temp.path, AISHELL_VAULT_PASSWORD: PASSWORD };

      const stored = await runOnTerminal(script, [cli, 'store', 'typed'], env, ['typed-secret-1', 'typed-secret-1']);
      expect(stored.code, stored.output).toBe(0);
      expect(stored.output).toContain('Repeat the value for typed: ');
      expect(stored.output).not.toContain('typed-secret-1');
      expect(await temp.vault.get('typed')).toBe('typed-secret-1');

      const mismatch = await runOnTerminal(script, [cli, 'store', 'typo'], env, ['first-try', 'second-try']);
      expect(mismatch.code).toBe(1);
      expect(mismatch.output).toContain('differ; nothing was stored');
      expect(await temp.vault.has('typo')).toBe(false);
    } finally {
      await temp.cleanup();
    }
  });

  it('fails clearly on a wrong typed password', async () => {
    const temp = await makeTempVault();
    try {
      const script = join(temp.dir, 'child.mjs');
      await writeFile(script, CHILD);
      const cli = build.entry.replace(/index\.js$/, 'cli.js');
      const env = { ...temp.env, PATH: process.env.PATH, TERM: 'dumb', AISHELL_VAULT_PATH: temp.path };

      const { output, code } = await runOnTerminal(script, [cli, 'list'], env, ['typo in the password']);
      expect(code).toBe(1);
      expect(output).toContain('wrong password');
      expect(output).not.toContain('typo in the password');
    } finally {
      await temp.cleanup();
    }
  });
});
