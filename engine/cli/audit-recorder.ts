import path from 'node:path';
import type { SecurityConfig } from '../config/types.js';
import type { LedgerRecordInput } from '../ledger/types.js';
import type { AccessEvent } from '../vault/vault.js';
import type { CommandIo } from './io.js';

/** The vault methods that keep ledger checkpoints; structural, so the vault loads only when used. */
interface OpenedVault {
  has(name: string): Promise<boolean>;
  get(name: string, options?: { reason?: string }): Promise<string>;
  put(name: string, value: string, options?: { reason?: string }): Promise<unknown>;
}

/** Vault operations that only read; every other operation is recorded as a write. */
const READ_OPERATIONS = new Set(['read', 'read-history', 'read-pending', 'list', 'unlock', 'unlock-failed', 'backup']);

/**
 * Collects the audit records of one command (applied changes, drift, vault accesses) and appends
 * them to the ledger when the command ends, followed by a signed checkpoint. Vault events arrive
 * synchronously while the vault works, so they are buffered rather than written one by one.
 */
export class AuditRecorder {
  private readonly records: LedgerRecordInput[] = [];
  private vault?: OpenedVault;

  constructor(
    private readonly io: CommandIo,
    private config?: SecurityConfig,
    private configPath?: string,
  ) {}

  useConfig(config: SecurityConfig, configPath: string): void {
    this.config = config;
    this.configPath = configPath;
  }

  /** Remembers the opened vault, so checkpoints are also kept there. */
  useVault(vault: OpenedVault): void {
    this.vault = vault;
  }

  add(...records: LedgerRecordInput[]): void {
    this.addAll(records);
  }

  /** Adds a list of any length; spreading 100,000 records into add() would overflow the call stack. */
  addAll(records: readonly LedgerRecordInput[]): void {
    for (const record of records) this.records.push(record);
  }

  readonly vaultAccess = (event: AccessEvent): void => {
    // The ledger reads its own checkpoint entries from the vault; recording those would recurse.
    if (event.reason === 'audit ledger') return;
    this.records.push({
      kind: READ_OPERATIONS.has(event.operation) ? 'vault.read' : 'vault.write',
      target: event.entry ? `vault:${event.entry}` : 'vault',
      // The generation lets an auditor see a vault file rolled back to an older copy.
      details: {
        operation: event.operation,
        ...(event.reason ? { reason: event.reason } : {}),
        ...(event.generation !== undefined ? { generation: event.generation } : {}),
      },
      outcome: event.operation === 'unlock-failed' ? 'failed' : 'ok',
    });
  };

  /** Appends what was collected and signs a checkpoint. Returns false after printing an error. */
  async flush(): Promise<boolean> {
    if (this.records.length === 0) return true;
    const records = this.records.splice(0);
    try {
      const { openLedger, SecretStoreCheckpointStore, vaultSecretStore } = await loadLedger();
      const base = this.configPath ? path.dirname(path.resolve(this.io.cwd, this.configPath)) : this.io.cwd;
      const settings = this.config?.ledger;
      const ledger = await openLedger({
        path: settings?.path ? path.resolve(base, settings.path) : undefined,
        url: settings?.url,
        env: this.io.env,
        cwd: this.io.cwd,
        checkpointStores: this.vault ? [new SecretStoreCheckpointStore(vaultSecretStore(this.vault))] : [],
      });
      try {
        await ledger.append(records);
        if (settings?.retention_days) {
          await ledger.prune(new Date(Date.now() - settings.retention_days * 86_400_000));
        }
      } finally {
        await ledger.close();
      }
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // When the records were written and only the checkpoint failed, the ledger's message states that.
      const appended = (error as { recordsAppended?: number }).recordsAppended ?? 0;
      const summary = appended > 0 ? message : `could not write ${records.length} record(s) to the audit ledger: ${message}`;
      this.io.stderr.write(`error: ${summary}\n  fix: check ledger.path or ledger.url, then run aishell audit verify\n`);
      return false;
    }
  }
}

async function loadLedger() {
  const [{ openLedger }, { SecretStoreCheckpointStore }, { vaultSecretStore }] = await Promise.all([
    import('../ledger/open.js'),
    import('../ledger/anchors.js'),
    import('../ledger/keys.js'),
  ]);
  return { openLedger, SecretStoreCheckpointStore, vaultSecretStore };
}
