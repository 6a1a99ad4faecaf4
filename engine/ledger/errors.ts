export type LedgerErrorCode =
  | 'LEDGER_INVALID_RECORD'
  | 'LEDGER_SECRET_VALUE'
  | 'LEDGER_CORRUPT'
  | 'LEDGER_ROLLED_BACK'
  | 'LEDGER_KEY'
  | 'LEDGER_CHECKPOINT'
  | 'LEDGER_PROOF'
  | 'LEDGER_CONFIG'
  | 'LEDGER_IO';

/** A ledger failure with a stable code, so that the CLI and callers can tell the cases apart. */
export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  /**
   * Records that were appended and stay in the ledger although the operation failed afterwards,
   * such as a checkpoint refused in `close()`. Zero when nothing was written.
   */
  readonly recordsAppended: number;

  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown; recordsAppended?: number }) {
    super(message, options);
    this.name = 'LedgerError';
    this.code = code;
    this.recordsAppended = options?.recordsAppended ?? 0;
  }
}
