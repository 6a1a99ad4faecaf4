import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { saveServerSettings, showOnNewConnection } from './server-settings.js';

const q = (text: string) => JSON.stringify(text);
const AUDIT_SETTINGS = ['pgaudit.log', 'pgaudit.log_relation', 'log_connections', 'log_disconnections'];

// pgaudit is installed and preloaded on the test server by .ci/run; PGlite has no pgaudit.
describe('audit on postgres', () => {
  let scratch: Scratch;
  let file: string;
  let auditor: string;
  let restore: () => Promise<void>;

  const plan = (...args: string[]) => runCli(['plan', '-f', file, ...args], { cwd: scratch.dir, env: {} });
  const apply = () => runCli(['apply', '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });

  beforeEach(async () => {
    restore = await saveServerSettings(AUDIT_SETTINGS);
    scratch = await createScratch('postgres');
    await scratch.sql('CREATE EXTENSION pgaudit');
    auditor = scratch.role('auditor');
    file = path.join(scratch.dir, 'security.yaml');
    await writeFile(
      file,
      `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
roles:
  ${q(auditor)}: {}
audit:
  enabled: true
  operations: [ddl, write, role, connection]
  roles: [${q(auditor)}]
  retention_days: 365
`,
    );
  });

  afterEach(async () => {
    await scratch.cleanup();
    await restore();
  });

  it('applies pgaudit settings and reads them back', async () => {
    const first = await plan('--detailed-exitcode');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(2);
    expect(first.stdout).toContain("main: set pgaudit.log = 'write, role, ddl' (server, needs reload)");
    expect(first.stdout).toContain("main: set log_connections = 'on' (server, needs reload)");
    expect(first.stdout).toContain(`main: set pgaudit.log of role ${auditor}`);
    expect(first.stdout).toContain('Server settings (ALTER SYSTEM after the transactions commit, then a configuration reload):');
    expect(first.stdout).toContain('audit.retention_days (365) is not enforced by PostgreSQL');
    expect(first.stdout).not.toContain('shared_preload_libraries');

    const applied = await apply();
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    expect(await showOnNewConnection(scratch.url, 'pgaudit.log', 'write, role, ddl')).toBe('write, role, ddl');
    expect(await showOnNewConnection(scratch.url, 'pgaudit.log_relation', 'on')).toBe('on');
    expect(await showOnNewConnection(scratch.url, 'log_connections', 'on')).toBe('on');
    const [setting] = await scratch.sql(
      `SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
      [auditor],
    );
    expect(setting.setconfig).toEqual(['pgaudit.log=all']);

    const second = await plan('--detailed-exitcode');
    expect(second.stdout).toContain('No changes');
    expect(second.code).toBe(0);
  });

  it('shows an out-of-band server change as drift', async () => {
    expect((await apply()).code).toBe(0);
    await scratch.sql("ALTER SYSTEM SET pgaudit.log = 'all'");
    await scratch.sql('SELECT pg_reload_conf()');

    const drift = await plan('--detailed-exitcode');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain("main: set pgaudit.log = 'write, role, ddl' (server, needs reload)");
    expect(drift.stdout).toContain('pgaudit.log: all -> write, role, ddl');
  });

  it('warns where the pgaudit extension is missing', async () => {
    await scratch.sql('DROP EXTENSION pgaudit');
    const result = await plan();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`the pgaudit extension is not created in database "${scratch.database}"`);
  });
});
