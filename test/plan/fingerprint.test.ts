import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../engine/plan/fingerprint.js';
import { ROLE_ATTRIBUTE_DEFAULTS, type ActualRole, type ActualState, type Grant, type Membership } from '../../engine/model/types.js';

function role(name: string, extra: Partial<ActualRole> = {}): ActualRole {
  return { ...ROLE_ATTRIBUTE_DEFAULTS, name, password: { kind: 'none' }, system: false, ...extra };
}

function grant(grantee: string, privilege: string, name = 'orders', extra: Partial<Grant> = {}): Grant {
  return { database: 'app', grantee, privilege, object: { kind: 'table', schema: 'public', name }, grantOption: false, grantor: 'admin', ...extra };
}

function membership(role: string, member: string, admin = false): Membership {
  return { role, member, admin, inherit: null, set: null };
}

function state(): ActualState {
  return {
    serverVersion: 160000,
    currentUser: 'admin',
    roles: [role('admin', { superuser: true }), role('reader'), role('writer', { login: true })],
    memberships: [membership('reader', 'writer'), membership('writer', 'admin', true)],
    roleSettings: [{ role: 'reader', database: null, name: 'work_mem', value: '4MB' }],
    server: {
      embedded: false,
      superuser: true,
      settings: [{ name: 'log_connections', configured: 'on', running: 'on', pendingRestart: false }],
      availableExtensions: ['pgaudit', 'pgcrypto'],
      hbaRules: [{ line: 1, type: 'local', databases: ['all'], users: ['all'], address: null, method: 'trust', error: null }],
    },
    databases: [
      {
        name: 'app',
        owner: 'admin',
        grants: [
          grant('reader', 'SELECT'),
          grant('writer', 'INSERT'),
          grant('writer', 'SELECT', 'orders', { object: { kind: 'column', schema: 'public', name: 'orders', column: 'id' } }),
          grant('PUBLIC', 'EXECUTE', 'f(integer)', { object: { kind: 'function', schema: 'public', name: 'f(integer)', routine: 'f' } }),
        ],
        defaultPrivileges: [{ database: 'app', forRole: 'admin', schema: null, objectType: 'tables', grantee: 'reader', privilege: 'SELECT', grantOption: false }],
        objects: [
          { kind: 'schema', schema: null, name: 'public', owner: 'admin' },
          { kind: 'table', schema: 'public', name: 'orders', owner: 'admin', relationKind: 'table', columns: ['id', 'total'] },
        ],
        rlsTables: [{ database: 'app', schema: 'public', table: 'orders', enabled: true, force: false }],
        policies: [],
        extensions: ['pgcrypto'],
      },
    ],
  };
}

const everything = new Set(['log_connections']);

/** Fingerprints a fresh state after `change`, covering every role and the one setting. */
function after(change: (state: ActualState) => void, roles: ReadonlySet<string> | null = null): string {
  const changed = state();
  change(changed);
  return fingerprint(changed, roles, everything);
}

const original = fingerprint(state(), null, everything);

describe('fingerprint', () => {
  it('is a SHA-256 in hex', () => {
    expect(original).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('ignores the order of rows', () => {
    const reordered = after((changed) => {
      changed.roles.reverse();
      changed.memberships.reverse();
      changed.databases[0].grants.reverse();
      changed.databases[0].objects.reverse();
      changed.server.availableExtensions.reverse();
    });

    expect(reordered).toBe(original);
  });

  const changes: [string, (state: ActualState) => void][] = [
    ['the server version', (changed) => (changed.serverVersion = 160001)],
    ['a role attribute', (changed) => (changed.roles[1].createdb = true)],
    ['a role password', (changed) => (changed.roles[1].password = { kind: 'scram', verifier: 'x' })],
    ['a connection limit', (changed) => (changed.roles[1].connectionLimit = 5)],
    ['a role expiry', (changed) => (changed.roles[1].validUntil = '2030-01-01T00:00:00Z')],
    ['a role comment', (changed) => (changed.roles[1].comment = 'reads')],
    ['a system role flag', (changed) => (changed.roles[1].system = true)],
    ['a membership option', (changed) => (changed.memberships[0].admin = true)],
    ['a role setting', (changed) => (changed.roleSettings[0].value = '8MB')],
    ['a server setting', (changed) => (changed.server.settings[0].configured = 'off')],
    ['an available extension', (changed) => changed.server.availableExtensions.pop()],
    ['a pg_hba.conf rule', (changed) => (changed.server.hbaRules![0].method = 'md5')],
    ['unreadable pg_hba.conf', (changed) => (changed.server.hbaRules = null)],
    ['the database owner', (changed) => (changed.databases[0].owner = 'reader')],
    ['a grantee', (changed) => (changed.databases[0].grants[0].grantee = 'writer')],
    ['a privilege', (changed) => (changed.databases[0].grants[0].privilege = 'UPDATE')],
    ['a grant option', (changed) => (changed.databases[0].grants[0].grantOption = true)],
    ['a grantor', (changed) => (changed.databases[0].grants[0].grantor = 'reader')],
    ['a missing grantor', (changed) => (changed.databases[0].grants[0].grantor = undefined)],
    ['the database of a grant', (changed) => (changed.databases[0].grants[0].database = 'other')],
    ['an object kind', (changed) => (changed.databases[0].grants[0].object.kind = 'sequence')],
    ['an object schema', (changed) => (changed.databases[0].grants[0].object.schema = 'audit')],
    ['a null object schema', (changed) => (changed.databases[0].grants[0].object.schema = null)],
    ['an object name', (changed) => (changed.databases[0].grants[0].object.name = 'invoices')],
    ['a column', (changed) => (changed.databases[0].grants[2].object.column = 'total')],
    ['a routine name', (changed) => (changed.databases[0].grants[3].object.routine = 'g')],
    ['a grant added twice', (changed) => changed.databases[0].grants.push(grant('reader', 'SELECT'))],
    ['a grant removed', (changed) => changed.databases[0].grants.pop()],
    ['text moved between fields', (changed) => Object.assign(changed.databases[0].grants[1], { grantee: 'writerI', privilege: 'NSERT' })],
    [
      'privileges swapped between grants',
      (changed) => {
        changed.databases[0].grants[0].privilege = 'INSERT';
        changed.databases[0].grants[1].privilege = 'SELECT';
      },
    ],
    ['a default privilege', (changed) => (changed.databases[0].defaultPrivileges[0].schema = 'public')],
    ['an object owner', (changed) => (changed.databases[0].objects[1].owner = 'reader')],
    ['a table column', (changed) => changed.databases[0].objects[1].columns!.push('note')],
    ['row-level security', (changed) => (changed.databases[0].rlsTables[0].force = true)],
    [
      'a policy',
      (changed) =>
        changed.databases[0].policies.push({
          database: 'app',
          schema: 'public',
          table: 'orders',
          name: 'own',
          command: 'ALL',
          roles: ['PUBLIC'],
          permissive: true,
          using: null,
          withCheck: null,
        }),
    ],
    ['an extension', (changed) => changed.databases[0].extensions.push('pgaudit')],
  ];

  for (const [what, change] of changes) {
    it(`changes with ${what}`, () => {
      expect(after(change)).not.toBe(original);
    });
  }

  it('changes with a stored verifier', () => {
    const verifier = (text: string) => after((changed) => (changed.roles[1].password = { kind: 'scram', verifier: text }));

    expect(verifier('SCRAM-SHA-256$4096:a')).not.toBe(verifier('SCRAM-SHA-256$4096:b'));
  });

  it('leaves out roles the plan does not read', () => {
    const roles = new Set(['reader', 'PUBLIC']);
    const before = after(() => undefined, roles);

    expect(after((changed) => (changed.roles[2].login = false), roles)).toBe(before);
    expect(after((changed) => (changed.databases[0].grants[1].privilege = 'DELETE'), roles)).toBe(before);
    expect(after((changed) => (changed.memberships[1].admin = false), roles)).toBe(before);
    expect(after((changed) => (changed.roles[1].login = true), roles)).not.toBe(before);
    expect(after((changed) => (changed.databases[0].grants[0].privilege = 'DELETE'), roles)).not.toBe(before);
    expect(after((changed) => (changed.memberships[0].admin = true), roles)).not.toBe(before);
  });

  it('covers only the server settings a plan sets', () => {
    const changed = state();
    changed.server.settings[0].configured = 'off';
    changed.server.hbaRules = null;

    expect(fingerprint(changed)).toBe(fingerprint(state()));
    expect(fingerprint(changed, null, everything)).not.toBe(fingerprint(state(), null, everything));
  });

  it('ignores the order of databases', () => {
    const two = state();
    two.databases.push({ ...state().databases[0], name: 'billing' });
    const swapped = { ...two, databases: [...two.databases].reverse() };

    expect(fingerprint(swapped)).toBe(fingerprint(two));
  });
});
