import type pg from 'pg';

import { quoteIdent } from '../../providers/postgres/quote.js';

/** Marks the current trigger function, so that ledgers created by an older version are upgraded. */
const TRIGGER_VERSION = 'aishell-ledger-trigger v2';

/**
 * Creates the schema, the records table and its append-only triggers. Runs inside the caller's
 * transaction, which already holds the ledger's advisory lock, so concurrent first writers wait
 * and then find the table.
 */
export async function createLedgerTables(client: pg.ClientBase, schema: string): Promise<void> {
  const table = `${quoteIdent(schema)}.${quoteIdent('records')}`;
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  await client.query(`
    CREATE TABLE IF NOT EXISTS ${table} (
      seq bigint PRIMARY KEY,
      kind text NOT NULL,
      recorded_at timestamptz NOT NULL,
      line bytea NOT NULL,
      prune_before bigint
    )`);
  await client.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent('records_kind_seq')} ON ${table} (kind, seq)`);
  await installTriggers(client, schema);
}

/**
 * Replaces a trigger function that an older version installed. Only the function's owner may
 * replace it, so a writer that does not own it leaves it for the owner's next append.
 */
export async function upgradeTriggers(client: pg.ClientBase, schema: string): Promise<void> {
  const current = await client.query<{ source: string | null }>(
    'SELECT prosrc AS source FROM pg_proc WHERE oid = to_regprocedure($1)',
    [`${quoteIdent(schema)}.${quoteIdent('reject_change')}()`],
  );
  if (current.rows[0]?.source?.includes(TRIGGER_VERSION)) {
    return;
  }

  await client.query('SAVEPOINT aishell_upgrade_triggers');
  try {
    await installTriggers(client, schema);
    await client.query('RELEASE SAVEPOINT aishell_upgrade_triggers');
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT aishell_upgrade_triggers');
    if ((error as { code?: string }).code !== '42501') {
      throw error;
    }
    // NOTE: without the owner's privileges the old trigger stays until the owner appends once,
    // and it lets any role that can INSERT a retention.prune row delete records.
  }
}

/**
 * Installs the triggers that reject UPDATE, TRUNCATE and every DELETE except the ledger's own
 * pruning. A DELETE passes only when the deleting role has the table owner's privileges and the
 * row lies below a retention.prune marker inserted in the same transaction, which is what
 * `aishell audit prune` does. A role that was only granted INSERT and DELETE therefore cannot
 * forge a marker and delete records. The owner or a superuser can still disable the triggers;
 * the hash chain and the anchors kept outside the database detect such edits.
 *
 * The functions pin search_path to pg_catalog, so a role that can create functions cannot
 * shadow pg_has_role or the xid comparison, and they find the table through TG_TABLE_SCHEMA.
 */
async function installTriggers(client: pg.ClientBase, schema: string): Promise<void> {
  const table = `${quoteIdent(schema)}.${quoteIdent('records')}`;
  const rejectChange = `${quoteIdent(schema)}.${quoteIdent('reject_change')}`;
  const rejectTruncate = `${quoteIdent(schema)}.${quoteIdent('reject_truncate')}`;

  await client.query(`
    CREATE OR REPLACE FUNCTION ${rejectChange}() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $body$
    -- ${TRIGGER_VERSION}
    DECLARE
      allowed bigint;
    BEGIN
      IF TG_OP = 'DELETE'
         AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        EXECUTE format('SELECT max(prune_before) FROM %I.%I WHERE kind = %L AND xmin = pg_current_xact_id()::xid',
                       TG_TABLE_SCHEMA, TG_TABLE_NAME, 'retention.prune')
          INTO allowed;
        IF OLD.seq < coalesce(allowed, 0) THEN
          RETURN OLD;
        END IF;
      END IF;
      RAISE EXCEPTION 'the aishell ledger is append-only: % of seq % is not allowed', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'records are removed only by aishell audit prune run as the table owner, which appends a retention.prune marker in the same transaction';
    END
    $body$`);
  await client.query(`
    CREATE OR REPLACE FUNCTION ${rejectTruncate}() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $body$
    BEGIN
      RAISE EXCEPTION 'the aishell ledger is append-only: TRUNCATE is not allowed'
        USING ERRCODE = 'insufficient_privilege';
    END
    $body$`);

  await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent('records_append_only')} ON ${table}`);
  await client.query(
    `CREATE TRIGGER ${quoteIdent('records_append_only')} BEFORE UPDATE OR DELETE ON ${table}
     FOR EACH ROW EXECUTE FUNCTION ${rejectChange}()`,
  );
  await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent('records_no_truncate')} ON ${table}`);
  await client.query(
    `CREATE TRIGGER ${quoteIdent('records_no_truncate')} BEFORE TRUNCATE ON ${table}
     FOR EACH STATEMENT EXECUTE FUNCTION ${rejectTruncate}()`,
  );
}
