import type { AppliedTarget } from '../apply/apply.js';
import type { LoadedContext } from './context.js';
import type { CommandIo } from './io.js';

/**
 * Records an applied target in the audit ledger.
 * TODO: append to the ledger once it is wired in; until then apply records nothing.
 */
export async function recordApply(_context: LoadedContext, _io: CommandIo, _applied: AppliedTarget): Promise<void> {}
