import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandIo } from './io.js';

/**
 * Runs `aishell audit`, taking the ledger's location from security.yaml (`-f`, or the default
 * file when it exists) unless --ledger, --ledger-url or the environment names one, so that
 * `aishell audit verify` reads the same ledger that apply writes.
 */
export async function runAudit(args: string[], io: CommandIo): Promise<number> {
  const { runAuditCommand } = await import('../ledger/cli.js');
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-f' || args[i] === '--file') file = args[++i];
    else if (args[i].startsWith('--file=')) file = args[i].slice('--file='.length);
    else rest.push(args[i]);
  }

  const named = rest.some((arg) => /^--ledger(-url)?(=|$)/.test(arg)) || io.env.AISHELL_LEDGER || io.env.AISHELL_LEDGER_URL;
  if (named) return runAuditCommand(rest, io);

  const { loadConfig, resolveConfigPath } = await import('../config/load.js');
  const configPath = resolveConfigPath(io.cwd, file);
  if (!file && !existsSync(configPath)) return runAuditCommand(rest, io);

  const loaded = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  if (!loaded.config) {
    for (const diagnostic of loaded.diagnostics) io.stderr.write(`${diagnostic.severity}: ${diagnostic.summary}\n`);
    return 1;
  }
  const ledger = loaded.config.ledger;
  const base = path.dirname(configPath);
  const env = { ...io.env };
  if (ledger?.url) env.AISHELL_LEDGER_URL = ledger.url;
  else if (ledger?.path) env.AISHELL_LEDGER = path.resolve(base, ledger.path);
  return runAuditCommand(rest, { ...io, env });
}
