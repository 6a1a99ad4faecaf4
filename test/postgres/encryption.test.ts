import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { saveServerSettings, showOnNewConnection } from './server-settings.js';

const q = (text: string) => JSON.stringify(text);

async function writeConfig(scratch: Scratch, encryption: string): Promise<string> {
  const file = path.join(scratch.dir, 'security.yaml');
  await writeFile(
    file,
    `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
encryption:
${encryption}
`,
  );
  return file;
}

describe('encryption on postgres', () => {
  let scratch: Scratch;
  let restore: () => Promise<void>;

  beforeEach(async () => {
    restore = await saveServerSettings(['ssl_min_protocol_version']);
    scratch = await createScratch('postgres');
  });

  afterEach(async () => {
    await scratch.cleanup();
    await restore();
  });

  it('sets the TLS minimum and reports what it cannot change', async () => {
    const file = await writeConfig(scratch, '  require_tls: true\n  min_tls_version: TLSv1.3\n  password_encryption: scram-sha-256');
    const run = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: {} });

    const [ssl] = await scratch.sql("SELECT current_setting('ssl') AS value");
    const hostLines = await scratch.sql("SELECT line_number FROM pg_hba_file_rules WHERE type = 'host' ORDER BY line_number");

    const first = await run('plan', '-f', file, '--detailed-exitcode');
    expect(first.code).toBe(2);
    expect(first.stdout).toContain("main: set ssl_min_protocol_version = 'TLSv1.3' (server, needs reload)");
    expect(first.stdout).not.toContain('set password_encryption');
    if (ssl.value === 'off') expect(first.stdout).toContain('require_tls: ssl is off on the server');
    else expect(first.stdout).not.toContain('require_tls: ssl is off on the server');
    expect(hostLines.length).toBeGreaterThan(0);
    for (const { line_number: line } of hostLines) {
      expect(first.stdout).toContain(`require_tls: pg_hba.conf line ${line} (host `);
    }

    const applied = await run('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(await showOnNewConnection(scratch.url, 'ssl_min_protocol_version', 'TLSv1.3')).toBe('TLSv1.3');

    const second = await run('plan', '-f', file, '--detailed-exitcode');
    expect(second.stdout).toContain('No changes');
    expect(second.code).toBe(0);
  });

  it('plans a password_encryption change', async () => {
    // Only planned: switching the shared server to md5 would affect every other test.
    const file = await writeConfig(scratch, '  password_encryption: md5');
    const result = await runCli(['plan', '-f', file, '--show-sql'], { cwd: scratch.dir, env: {} });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("main: set password_encryption = 'md5' (server, needs reload)");
    expect(result.stdout).toContain('password_encryption: scram-sha-256 -> md5');
    expect(result.stdout).toContain(`ALTER SYSTEM SET "password_encryption" = 'md5';`);
  });
});

describe('encryption on pglite', () => {
  let scratch: Scratch;

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('warns that the section does not apply', async () => {
    scratch = await createScratch('pglite');
    const file = await writeConfig(scratch, '  require_tls: true\n  password_encryption: scram-sha-256');
    const result = await runCli(['plan', '-f', file, '--detailed-exitcode'], { cwd: scratch.dir, env: {} });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('the encryption section does not apply to an embedded PGlite database');
  });
});
