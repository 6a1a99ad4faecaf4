import { readFile, stat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';

import { openVault, type AccessEvent } from '../../engine/vault/index.js';
import { makeTempVault, PASSWORD, type TempVault } from './helpers.js';

let current: TempVault | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('vault entries', () => {
  it('stores and reads back values after reopening', async () => {
    current = await makeTempVault();
    const { vault, path, env } = current;
    await vault.put('db-admin', 'sëcret-välue-1', { metadata: { owner: 'dba' }, mode: 'create' });
    await vault.put('app.user', 'x'.repeat(100_000));

    const reopened = await openVault({ path, env, password: PASSWORD });
    expect(await reopened.get('db-admin')).toBe('sëcret-välue-1');
    expect(await reopened.get('app.user')).toBe('x'.repeat(100_000));
    expect((await reopened.entry('db-admin')).metadata).toEqual({ owner: 'dba' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('never writes a value in plaintext', async () => {
    current = await makeTempVault();
    const canary = 'canary-7f3a9c1e-plaintext';
    await current.vault.put('canary', canary);
    await current.vault.put('canary', `${canary}-2`);

    for (const file of [current.path, `${current.path}.bak`]) {
      const bytes = await readFile(file);
      expect(bytes.includes(Buffer.from(canary))).toBe(false);
      expect(bytes.includes(Buffer.from(Buffer.from(canary).toString('base64').slice(0, 16)))).toBe(false);
    }
  });

  it('rejects a second create of one name', async () => {
    current = await makeTempVault();
    await current.vault.put('one', 'first-value', { mode: 'create' });
    await expect(current.vault.put('one', 'second-value', { mode: 'create' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await current.vault.get('one')).toBe('first-value');
  });

  it('rejects invalid names and empty values', async () => {
    current = await makeTempVault();
    await expect(current.vault.put('-bad', 'value')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(current.vault.put('has space', 'value')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(current.vault.put('ok', '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(current.vault.put('ok', 'a\uD800b')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('keeps previous values to the configured depth', async () => {
    current = await makeTempVault();
    const { vault } = current;
    await vault.put('rotating', 'v1', { keepHistory: 2 });
    await vault.put('rotating', 'v2');
    await vault.put('rotating', 'v3');
    await vault.put('rotating', 'v4');

    expect(await vault.get('rotating')).toBe('v4');
    expect(await vault.history('rotating')).toEqual(['v3', 'v2']);
    const info = await vault.entry('rotating');
    expect(info.version).toBe(4);
    expect(info.historyCount).toBe(2);

    await vault.update('rotating', { keepHistory: 0 });
    expect(await vault.history('rotating')).toEqual([]);
  });

  it('applies the vault default history depth', async () => {
    current = await makeTempVault();
    const { vault } = current;
    await vault.configure({ keepHistory: 1 });
    await vault.put('entry', 'a');
    await vault.put('entry', 'b');
    await vault.put('entry', 'c');
    expect(await vault.history('entry')).toEqual(['b']);
  });

  it('refuses expired entries naming entry and expiry', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    current = await makeTempVault({ now: () => now });
    const { vault } = current;
    await vault.put('short-lived', 'value', { expires: new Date('2030-01-02T00:00:00Z') });
    expect(await vault.get('short-lived')).toBe('value');

    now = new Date('2030-01-02T00:00:00Z');
    const error = await vault.get('short-lived').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'EXPIRED' });
    expect((error as Error).message).toContain('"short-lived"');
    expect((error as Error).message).toContain('2030-01-02T00:00:00.000Z');
    expect((await vault.entry('short-lived')).expired).toBe(true);
    expect(await vault.get('short-lived', { allowExpired: true })).toBe('value');
  });

  it('records creation, update and access times', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    current = await makeTempVault({ now: () => now });
    const { vault } = current;
    await vault.put('timed', 'one');
    now = new Date('2030-01-05T00:00:00Z');
    await vault.put('timed', 'two');
    now = new Date('2030-01-09T00:00:00Z');
    await vault.get('timed');

    const info = await vault.entry('timed');
    expect(info.created.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(info.updated.toISOString()).toBe('2030-01-05T00:00:00.000Z');
    expect(info.lastAccessed?.toISOString()).toBe('2030-01-09T00:00:00.000Z');
  });

  it('deletes an entry and its values from the backup generation', async () => {
    current = await makeTempVault();
    const { vault, path } = current;
    await vault.put('doomed', 'doomed-value-4411');
    await vault.delete('doomed');
    expect(await vault.has('doomed')).toBe(false);
    await expect(vault.get('doomed')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const backup = await openVault({ path: `${path}.bak`, env: current.env, password: PASSWORD });
    expect(await backup.has('doomed')).toBe(false);
  });

  it('reports accesses without values', async () => {
    const events: AccessEvent[] = [];
    current = await makeTempVault();
    const vault = await openVault({ path: current.path, env: current.env, password: PASSWORD, actor: 'tester', onAccess: (event) => events.push(event) });
    await vault.put('audited', 'audited-value-9', { reason: 'setup' });
    await vault.get('audited', { reason: 'apply plan 7' });
    await vault.history('audited');

    expect(events.map((event) => event.operation)).toEqual(['unlock', 'create', 'read', 'read-history']);
    expect(events[2]).toMatchObject({ entry: 'audited', actor: 'tester', reason: 'apply plan 7' });
    expect(JSON.stringify(events)).not.toContain('audited-value-9');
  });

  it('reports the file generation with accesses', async () => {
    const events: AccessEvent[] = [];
    current = await makeTempVault();
    const vault = await openVault({ path: current.path, env: current.env, password: PASSWORD, onAccess: (event) => events.push(event) });
    await vault.put('entry', 'value');
    await vault.get('entry');
    await vault.history('entry');

    const generations = events.map((event) => event.generation);
    // The vault was created (generation 1) and unlocked; put and get each write a generation.
    expect(generations).toEqual([1, 2, 3, 3]);
  });

  it('zeroes the key on lock', async () => {
    current = await makeTempVault();
    const { vault } = current;
    await vault.put('x', 'y');
    const key = vault.requireKey();
    vault.lock();
    expect(key.every((byte) => byte === 0)).toBe(true);
    await expect(vault.get('x')).rejects.toMatchObject({ code: 'LOCKED' });
  });
});

describe('vault pending values', () => {
  it('commits a pending value and keeps the old one', async () => {
    current = await makeTempVault();
    const { vault, path, env } = current;
    await vault.put('role-password', 'old-password');
    await vault.setPending('role-password', 'new-password', { reason: 'rotation' });

    expect(await vault.get('role-password')).toBe('old-password');
    const reopened = await openVault({ path, env, password: PASSWORD });
    expect(await reopened.pending()).toMatchObject([{ name: 'role-password', hasCommittedValue: true, reason: 'rotation' }]);
    expect(await reopened.getPending('role-password')).toBe('new-password');

    await reopened.commitPending('role-password');
    expect(await reopened.get('role-password')).toBe('new-password');
    expect(await reopened.history('role-password')).toEqual(['old-password']);
    expect(await reopened.pending()).toEqual([]);
  });

  it('discards a pending value', async () => {
    current = await makeTempVault();
    const { vault } = current;
    await vault.put('role-password', 'old-password');
    await vault.setPending('role-password', 'new-password');
    await vault.discardPending('role-password');
    expect(await vault.get('role-password')).toBe('old-password');
    expect(await vault.history('role-password')).toEqual([]);
    expect(await vault.pending()).toEqual([]);
  });

  it('handles a first value that is only pending', async () => {
    current = await makeTempVault();
    const { vault } = current;
    await vault.setPending('new-role', 'first-password');
    expect(await vault.has('new-role')).toBe(false);
    await expect(vault.get('new-role')).rejects.toMatchObject({ code: 'PENDING' });
    expect(await vault.pending()).toMatchObject([{ name: 'new-role', hasCommittedValue: false }]);

    await vault.discardPending('new-role');
    expect((await vault.entries()).map((entry) => entry.name)).toEqual([]);

    await vault.setPending('new-role', 'first-password');
    await vault.commitPending('new-role');
    expect(await vault.get('new-role')).toBe('first-password');
    expect((await vault.entry('new-role')).version).toBe(1);
  });

  it('rejects a second pending value and direct writes', async () => {
    current = await makeTempVault();
    const { vault } = current;
    await vault.put('role-password', 'old-password');
    await vault.setPending('role-password', 'pending-1');
    await expect(vault.setPending('role-password', 'pending-2')).rejects.toMatchObject({ code: 'PENDING' });
    await expect(vault.put('role-password', 'direct')).rejects.toMatchObject({ code: 'PENDING' });
    expect(await vault.getPending('role-password')).toBe('pending-1');

    await vault.setPending('role-password', 'pending-2', { replace: true });
    expect(await vault.getPending('role-password')).toBe('pending-2');
  });

  it('rejects commit and discard without a pending value', async () => {
    current = await makeTempVault();
    await current.vault.put('plain', 'value');
    await expect(current.vault.commitPending('plain')).rejects.toMatchObject({ code: 'PENDING' });
    await expect(current.vault.discardPending('plain')).rejects.toMatchObject({ code: 'PENDING' });
    expect(await current.vault.get('plain')).toBe('value');
  });
});
