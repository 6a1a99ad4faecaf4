import { formatDiagnostic, hasErrors, type Diagnostic } from '../diagnostics.js';
import type { SecurityConfig } from '../config/types.js';
import type { CredentialManager } from '../credentials/manager.js';
import type { ReadAhead } from '../plan/read-ahead.js';
import type { SecretResolver } from '../secrets.js';
import { AuditRecorder } from './audit-recorder.js';
import type { CommandIo } from './io.js';

export interface LoadedContext {
  config: SecurityConfig;
  configPath: string;
  secrets: SecretResolver;
  credentials?: CredentialManager;
  /** Collects the command's audit records; the command flushes it to the ledger at its end. */
  recorder: AuditRecorder;
}

/** Prints diagnostics to stderr, errors and warnings alike. */
export function printDiagnostics(io: CommandIo, diagnostics: Diagnostic[]): void {
  for (const diagnostic of diagnostics) io.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
}

/**
 * Loads and validates the configuration for a command. Returns null after printing the
 * diagnostics when the file has errors; warnings are printed and the command goes on.
 */
export async function loadContext(io: CommandIo, file: string | undefined): Promise<LoadedContext | null> {
  const { loadConfig, resolveConfigPath } = await import('../config/load.js');
  const configPath = resolveConfigPath(io.cwd, file);
  const result = await loadConfig(configPath, { env: io.env });
  printDiagnostics(io, result.diagnostics);
  if (!result.config || hasErrors(result.diagnostics)) return null;

  const config = result.config;
  const recorder = new AuditRecorder(io, config, configPath);
  const openVault = async () => {
    const { openVault } = await import('../vault/open.js');
    const { resolveVaultLocation } = await import('../vault/location.js');
    // The pins, PKCS#11 module and KMS endpoints come from security.yaml or the environment,
    // never from the vault file.
    const location = await resolveVaultLocation({ configPath, env: io.env, cwd: io.cwd });
    const vault = await openVault({ path: location.path, env: io.env, trust: location.trust, onAccess: recorder.vaultAccess });
    recorder.useVault(vault);
    return vault;
  };

  // The credential manager resolves every secret: a value being rotated is read from the
  // pending slot, and password_policy.history needs the entries' previous values.
  const { CredentialManager } = await import('../credentials/manager.js');
  const credentials = new CredentialManager(config, io.env, openVault);
  return { config, configPath, secrets: credentials, credentials, recorder };
}

/** Starts reading the catalogs of the configuration's targets; see engine/plan/read-ahead.ts. */
export async function startReadAhead(io: CommandIo, file: string | undefined, targets: string[] | undefined): Promise<ReadAhead> {
  const { resolveConfigPath } = await import('../config/config-path.js');
  const { startReadAhead: start } = await import('../plan/read-ahead.js');
  return start({ configPath: resolveConfigPath(io.cwd, file), env: io.env, ...(targets?.length ? { targets } : {}) });
}

/** Selects the targets a command works on: those named with -t, or every target. */
export function selectTargets(config: SecurityConfig, requested: string[] | undefined): { names: string[]; error?: string } {
  const all = Object.keys(config.targets);
  if (!requested || requested.length === 0) return { names: all };
  const unknown = requested.filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    return { names: [], error: `unknown target ${unknown.map((name) => JSON.stringify(name)).join(', ')}; the file declares: ${all.join(', ')}` };
  }
  return { names: requested };
}
