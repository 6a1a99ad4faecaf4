import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandIo } from './io.js';

/** Splits `-f PATH` / `--file PATH` out of a command's arguments. */
export function takeFileOption(args: string[]): { file?: string; rest: string[] } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-f' || args[i] === '--file') file = args[++i];
    else if (args[i].startsWith('--file=')) file = args[i].slice('--file='.length);
    else rest.push(args[i]);
  }
  return { file, rest };
}

/**
 * Returns the environment with the ledger location of security.yaml (`-f`, or the default file
 * when it exists) as AISHELL_LEDGER or AISHELL_LEDGER_URL, so that `aishell audit` and `aishell
 * vault` use the ledger that plan and apply write. An explicit location always wins.
 */
export async function envWithConfiguredLedger(args: string[], file: string | undefined, io: CommandIo): Promise<NodeJS.ProcessEnv> {
  const named = args.some((arg) => /^--ledger(-url)?(=|$)/.test(arg)) || io.env.AISHELL_LEDGER || io.env.AISHELL_LEDGER_URL;
  if (named) return io.env;

  const { loadConfig, resolveConfigPath } = await import('../config/load.js');
  const configPath = resolveConfigPath(io.cwd, file);
  if (!existsSync(configPath)) return io.env;

  // A file that does not load leaves the default location; the command reports its own errors.
  const loaded = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  const ledger = loaded.config?.ledger;
  const env = { ...io.env };
  if (ledger?.url) env.AISHELL_LEDGER_URL = ledger.url;
  else if (ledger?.path) env.AISHELL_LEDGER = path.resolve(path.dirname(configPath), ledger.path);
  // audit verify also checks the head kept in the vault, so it needs the same vault.
  const vaultPath = loaded.config?.vault?.path;
  if (vaultPath && !env.AISHELL_VAULT_PATH) env.AISHELL_VAULT_PATH = path.resolve(path.dirname(configPath), vaultPath);
  return env;
}

/** Runs `aishell audit` on the ledger that security.yaml names, unless an option or variable names another. */
export async function runAudit(args: string[], io: CommandIo): Promise<number> {
  const { runAuditCommand } = await import('../ledger/cli.js');
  const { file, rest } = takeFileOption(args);
  if (file && !existsSync(path.resolve(io.cwd, file))) {
    io.stderr.write(`error: configuration ${file} not found\n  fix: pass the path of security.yaml with -f, or --ledger PATH\n`);
    return 1;
  }
  return runAuditCommand(rest, { ...io, env: await envWithConfiguredLedger(rest, file, io) });
}
