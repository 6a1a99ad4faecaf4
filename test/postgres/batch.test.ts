import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantAddress } from '../../engine/diff/addresses.js';
import type { Change } from '../../engine/diff/changes.js';
import type { Grant, Policy } from '../../engine/model/types.js';
import { ApplyError } from '../../engine/provider.js';
import { BATCH_STATEMENTS } from '../../providers/postgres/batch.js';
import { postgresProvider } from '../../providers/postgres/index.js';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';

/** More statements than one batch holds, so the failing one sits in the second batch. */
const STATEMENTS = BATCH_STATEMENTS + BATCH_STATEMENTS / 2;
const FAILING = BATCH_STATEMENTS + 200;

function grantChange(scratch: Scratch, grantee: string, table: string): Change {
  const grant: Grant = {
    database: scratch.database,
    grantee,
    privilege: 'SELECT',
    object: { kind: 'table', schema: 'public', name: table },
    grantOption: false,
  };
  return { kind: 'grant', address: grantAddress('batch', grant, 'grant'), database: scratch.database, destructive: false, grant };
}

describe.each(BACKENDS)('batched apply on %s', (backend) => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch(backend);
    await scratch.sql(`CREATE ROLE ${quoteIdent(scratch.role('reader'))}; CREATE TABLE public.orders (id int); CREATE TABLE public.invoices (id int)`);
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  async function execute(changes: Change[]): Promise<{ error?: unknown; statements: number; queries: number }> {
    const session = await postgresProvider.connect({ targetName: 'batch', url: scratch.url, baseDir: scratch.dir });
    let statements = 0;
    const before = session.queryCount;
    try {
      await session.execute(changes, async () => '', () => statements++);
      return { statements, queries: session.queryCount - before };
    } catch (error) {
      return { error, statements, queries: session.queryCount - before };
    } finally {
      await session.close();
    }
  }

  it('reports the failing statement of a batch', async () => {
    const reader = scratch.role('reader');
    const missing = scratch.role('missing');
    const changes = Array.from({ length: STATEMENTS }, (_, index) =>
      grantChange(scratch, index === FAILING ? missing : reader, index === FAILING - 1 ? 'invoices' : 'orders'),
    );

    const { error } = await execute(changes);

    expect(error).toBeInstanceOf(ApplyError);
    const failure = error as ApplyError;
    expect(failure.change).toBe(changes[FAILING]);
    expect(failure.statement).toBe(`GRANT SELECT ON TABLE "public"."orders" TO ${quoteIdent(missing)}`);
    expect(failure.serverMessage).toContain('does not exist');

    // The first batch succeeded on its own, and still nothing of it was committed.
    const [held] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS orders, has_table_privilege($1, $4, $3) AS invoices', [reader, 'public.orders', 'SELECT', 'public.invoices']);
    expect(held.orders).toBe(false);
    expect(held.invoices).toBe(false);
  });

  it('runs a policy expression as one statement', async () => {
    const reader = scratch.role('reader');
    // An expression that closes its statement and starts another: sent in a batch, the simple
    // query protocol would run the CREATE TABLE too.
    const policy: Policy = {
      database: scratch.database,
      schema: 'public',
      table: 'orders',
      name: 'own_rows',
      command: 'SELECT',
      roles: [reader],
      permissive: true,
      using: 'true); CREATE TABLE public.injected (id int); SELECT (1',
      withCheck: null,
    };
    const changes: Change[] = [
      grantChange(scratch, reader, 'orders'),
      { kind: 'create_policy', address: 'batch/app: create policy own_rows', database: scratch.database, destructive: false, policy },
      grantChange(scratch, reader, 'invoices'),
    ];

    const { error } = await execute(changes);

    expect(error).toBeInstanceOf(ApplyError);
    expect((error as ApplyError).change).toBe(changes[1]);
    const [created] = await scratch.sql("SELECT to_regclass('public.injected') IS NOT NULL AS exists");
    expect(created.exists).toBe(false);
  });

  it('commits every batch when all succeed', async () => {
    const reader = scratch.role('reader');
    const changes = Array.from({ length: STATEMENTS }, (_, index) => grantChange(scratch, reader, index === STATEMENTS - 1 ? 'invoices' : 'orders'));

    const { error, statements, queries } = await execute(changes);

    expect(error).toBeUndefined();
    expect(statements).toBe(STATEMENTS);
    // BEGIN, two batches and COMMIT.
    expect(queries).toBe(4);
    const [held] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS orders, has_table_privilege($1, $4, $3) AS invoices', [reader, 'public.orders', 'SELECT', 'public.invoices']);
    expect(held.orders).toBe(true);
    expect(held.invoices).toBe(true);
  });
});
