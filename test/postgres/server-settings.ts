import pg from 'pg';
import { quoteLiteral } from '../../providers/postgres/quote.js';
import { PG_URL } from '../support/backends.js';

/**
 * Saves and restores server parameters that a test changes with ALTER SYSTEM, because the
 * PostgreSQL server is shared by every test: parameters set in postgresql.auto.conf before the
 * test are set back, the others are reset, and the configuration is reloaded.
 */
export async function saveServerSettings(names: string[]): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const { rows } = await client.query<{ name: string; setting: string }>(
    `SELECT DISTINCT ON (name) name, setting FROM pg_file_settings
     WHERE sourcefile LIKE '%postgresql.auto.conf' AND name = ANY($1) ORDER BY name, seqno DESC`,
    [names],
  );
  await client.end();
  const saved = new Map(rows.map((row) => [row.name, row.setting]));

  return async () => {
    const restore = new pg.Client({ connectionString: PG_URL });
    await restore.connect();
    try {
      for (const name of names) {
        const value = saved.get(name);
        // Names are fixed by the tests, never user input; each dotted part is a plain word.
        const quotedName = name.split('.').map((part) => `"${part}"`).join('.');
        await restore.query(value === undefined ? `ALTER SYSTEM RESET ${quotedName}` : `ALTER SYSTEM SET ${quotedName} = ${quoteLiteral(value)}`);
      }
      await restore.query('SELECT pg_reload_conf()');
    } finally {
      await restore.end();
    }
  };
}

/**
 * Reads a parameter on a new connection until it shows `expected`, because the postmaster applies
 * a reload signal asynchronously; gives up after `attempts` reads and returns the last value.
 */
export async function showOnNewConnection(url: string, name: string, expected: string, attempts = 50): Promise<string> {
  let value = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<Record<string, string>>(`SHOW ${name.split('.').map((part) => `"${part}"`).join('.')}`);
      value = Object.values(rows[0])[0];
    } finally {
      await client.end();
    }
    if (value === expected) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return value;
}
