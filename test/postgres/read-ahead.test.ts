import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../engine/config/types.js';
import { startReadAhead } from '../../engine/plan/read-ahead.js';
import { postgresProvider } from '../../providers/postgres/index.js';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

describe('catalog read-ahead', () => {
  let scratch: Scratch;
  let file: string;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
    file = path.join(scratch.dir, 'security.yaml');
    await scratch.sql(`CREATE ROLE ${quoteIdent(scratch.role('reader'))}; CREATE TABLE public.orders (id int); GRANT SELECT ON public.orders TO ${quoteIdent(scratch.role('reader'))}`);
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  /**
   * Connections that aishell keeps open on the scratch database. A server process leaves
   * pg_stat_activity shortly after its client has gone, so the expected count is waited for.
   */
  async function openConnections(expected = 0): Promise<number> {
    let open = 0;
    for (let attempt = 0; attempt < 50; attempt++) {
      const [row] = await scratch.sql("SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aishell'");
      open = row!.open as number;
      if (open === expected) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return open;
  }

  const target = (overrides: Partial<TargetConfig> = {}): TargetConfig => ({ engine: 'postgres', url: scratch.url, ...overrides });

  it('inspects before the file is loaded', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${scratch.role('reader')}: {}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    const early = await readAhead.take('main', target());
    expect(early).toBeDefined();
    try {
      // The batch went out when the session opened: taking the session sends nothing more.
      const sent = early!.session.queryCount;
      const actual = await early!.inspection;
      expect(early!.session.queryCount).toBe(sent);

      const reference = await postgresProvider.connect({ targetName: 'main', url: scratch.url, baseDir: scratch.dir });
      try {
        expect(actual).toEqual(await reference.inspect());
      } finally {
        await reference.close();
      }
      expect(actual.databases[0]!.grants).toContainEqual(expect.objectContaining({ grantee: scratch.role('reader'), privilege: 'SELECT' }));
    } finally {
      await early!.session.close();
      await readAhead.close();
    }
  });

  it('drops a session whose target changed', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    expect(await readAhead.take('main', target({ databases: ['postgres'] }))).toBeUndefined();
    expect(await readAhead.take('main', target())).toBeUndefined();
    await readAhead.close();
    expect(await openConnections()).toBe(0);
  });

  it('closes sessions nobody took', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    expect(await openConnections(1)).toBe(1);
    await readAhead.close();
    expect(await openConnections()).toBe(0);
  });

  it('resolves env references in the url and password', async () => {
    await writeFile(file, 'version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${env:APP_URL}\n    password: ${env:APP_PASSWORD}\n');
    const env = { APP_URL: scratch.url, APP_PASSWORD: 'unused under trust authentication' };

    const readAhead = await startReadAhead({ configPath: file, env });
    const early = await readAhead.take('main', target({ password: { kind: 'env', name: 'APP_PASSWORD' } }));
    expect(early).toBeDefined();
    await early!.session.close();
    await readAhead.close();
  });

  it('leaves an empty password variable to the plan', async () => {
    // The plan rejects an empty variable as unset. Under trust authentication a session opened
    // ahead with no password would connect, and the plan would succeed where it must fail.
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n    password: \${env:APP_PASSWORD}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: { APP_PASSWORD: '' } });
    expect(await readAhead.take('main', target({ password: { kind: 'env', name: 'APP_PASSWORD' } }))).toBeUndefined();
    await readAhead.close();

    const result = await runCli(['plan', '-f', file], { cwd: scratch.dir, env: { APP_PASSWORD: '' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('environment variable APP_PASSWORD (password of target main) is not set');
    expect(await openConnections()).toBe(0);
  });

  it('survives the server ending its session', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    const early = await readAhead.take('main', target());
    expect(early).toBeDefined();
    await early!.inspection;

    // A session opened ahead waits while the file loads, so idle_session_timeout, a restart or
    // pg_terminate_backend may end it. That must fail its next query, not end the process.
    await scratch.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aishell'");
    expect(await openConnections()).toBe(0);
    await expect(early!.session.inspect()).rejects.toThrow('terminating connection due to administrator command');
    await early!.session.close();
    await readAhead.close();
  });

  it('replaces a session lost before take', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    await scratch.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aishell'");
    expect(await openConnections()).toBe(0);

    expect(await readAhead.take('main', target())).toBeUndefined();
    await readAhead.close();
  });

  it('reports a failed connection once', async () => {
    const missing = `${scratch.database}_missing`;
    const url = new URL(scratch.url);
    url.pathname = `/${missing}`;
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(url.toString())}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    await expect(readAhead.take('main', target({ url: url.toString() }))).rejects.toThrow(`database "${missing}" does not exist`);
    await readAhead.close();

    const result = await runCli(['plan', '-f', file], { cwd: scratch.dir });
    expect(result.code).toBe(1);
    expect(result.stdout.split(`database "${missing}" does not exist`).length).toBe(2);
  });

  it('reads ahead the first target only', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n  other:\n    engine: postgres\n    url: ${q(scratch.url)}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    expect(await openConnections(1)).toBe(1);
    expect(await readAhead.take('other', target())).toBeUndefined();
    const early = await readAhead.take('main', target());
    expect(early).toBeDefined();
    await early!.session.close();
    await readAhead.close();
  });

  it('exits after a file error while a server stays silent', async () => {
    // A server that accepts connections and never replies, as a pooler with no free connection.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: postgres://postgres@127.0.0.1:${port}/postgres\nroles:\n  somebody:\n    login: maybe\n`);

      const result = await runCli(['plan', '-f', file], { cwd: scratch.dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('security.yaml:8:');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('skips a file whose top level is a flow mapping', async () => {
    // The column-0 "targets:" line is part of a string here; the real target comes later.
    await writeFile(file, `{ version: 1, roles: { somebody: { comment: "x\ntargets:\n  main:\n    engine: postgres\n    url: ${scratch.url}\n" } },\n  targets: { main: { engine: postgres, url: ${q(scratch.url)} } } }\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {} });
    expect(await openConnections()).toBe(0);
    expect(await readAhead.take('main', target())).toBeUndefined();
    await readAhead.close();
  });

  it('leaves to the plan what the targets block cannot tell', async () => {
    const cases: Record<string, string> = {
      'a vault password': `targets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n    password: \${vault:main}\n`,
      'an unset variable': 'targets:\n  main:\n    engine: postgres\n    url: ${env:NOT_SET_ANYWHERE}\n',
      'a flow mapping': `targets: { main: { engine: postgres, url: ${q(scratch.url)} } }\n`,
      'an embedded database': `targets:\n  main:\n    engine: postgres\n    url: pglite://memory\n`,
      'another engine': `targets:\n  main:\n    engine: mysql\n    url: ${q(scratch.url)}\n`,
    };
    for (const [name, text] of Object.entries(cases)) {
      await writeFile(file, `version: 1\n${text}`);
      const readAhead = await startReadAhead({ configPath: file, env: {} });
      expect(await readAhead.take('main', target()), name).toBeUndefined();
      await readAhead.close();
    }

    const directory = path.join(scratch.dir, 'security');
    await mkdir(directory);
    await writeFile(path.join(directory, 'targets.yaml'), `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n`);
    const readAhead = await startReadAhead({ configPath: directory, env: {} });
    expect(await readAhead.take('main', target()), 'a directory').toBeUndefined();
    await readAhead.close();
    expect(await openConnections()).toBe(0);
  });

  it('reads ahead only the selected targets', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n  other:\n    engine: postgres\n    url: ${q(scratch.url)}\n`);

    const readAhead = await startReadAhead({ configPath: file, env: {}, targets: ['other'] });
    expect(await openConnections(1)).toBe(1);
    expect(await readAhead.take('main', target())).toBeUndefined();
    await readAhead.close();
  });

  it('leaves a refused connection to the plan', async () => {
    await writeFile(file, 'version: 1\ntargets:\n  main:\n    engine: postgres\n    url: postgres://postgres@127.0.0.1:1/postgres\nroles:\n  somebody: {}\n');

    const result = await runCli(['plan', '-f', file], { cwd: scratch.dir });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('ECONNREFUSED');
  });

  it('closes its session when the file has errors', async () => {
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${scratch.role('reader')}:\n    login: maybe\n`);

    const result = await runCli(['plan', '-f', file], { cwd: scratch.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('security.yaml:8:');
    expect(await openConnections()).toBe(0);
  });

  it('plans the same with and without read-ahead', async () => {
    const config = `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${scratch.role('reader')}: {}\n  ${scratch.role('writer')}: {}\ngrants:\n  - { to: ${scratch.role('writer')}, privileges: [INSERT], on: { table: public.orders } }\n`;
    await writeFile(file, config);
    const ahead = await runCli(['plan', '-f', file, '--format', 'json'], { cwd: scratch.dir });

    // In a directory the targets may sit in any file, so nothing is read ahead there.
    const directory = path.join(scratch.dir, 'security');
    await mkdir(directory);
    await writeFile(path.join(directory, 'security.yaml'), config);
    const plain = await runCli(['plan', '-f', directory, '--format', 'json'], { cwd: scratch.dir });

    expect(ahead.stderr).toBe('');
    expect(ahead.code).toBe(0);
    expect(plain.code).toBe(0);
    // The source file of each change differs between the two layouts, so only what runs is compared.
    const changes = (output: string) =>
      JSON.parse(output).targets.map((each: { changes: { address: string; statements: unknown[] }[] }) =>
        each.changes.map((change) => ({ address: change.address, statements: change.statements })),
      );
    expect(changes(ahead.stdout)).toEqual(changes(plain.stdout));
    expect(changes(ahead.stdout)[0].length).toBeGreaterThan(0);
    expect(await openConnections()).toBe(0);
  });
});
