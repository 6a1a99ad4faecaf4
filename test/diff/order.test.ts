import { describe, expect, it } from 'vitest';
import { diff, type DiffInput } from '../../engine/diff/diff.js';
import type { PasswordStatus } from '../../engine/diff/roles.js';
import {
  ROLE_ATTRIBUTE_DEFAULTS,
  type ActualState,
  type DatabaseState,
  type DesiredGrant,
  type DesiredState,
  type Grant,
  type Membership,
} from '../../engine/model/types.js';
import { capabilitiesFor } from '../../providers/postgres/capabilities.js';

// These cases check the order of the changes and every field of them, not only their set: plans
// list changes in the order diff returns them, and apply compares them field by field.

const pg16 = capabilitiesFor(160000);

function database(grants: Grant[]): DatabaseState {
  return {
    name: 'app',
    owner: 'admin',
    grants,
    defaultPrivileges: [],
    rlsTables: [],
    policies: [],
    extensions: [],
    objects: [
      { kind: 'schema', schema: null, name: 'public', owner: 'admin' },
      { kind: 'table', schema: 'public', name: 'orders', owner: 'admin', relationKind: 'table', columns: ['id', 'total'] },
      { kind: 'table', schema: 'public', name: 'mine', owner: 'reader', relationKind: 'table', columns: ['id'] },
    ],
  };
}

function actual(grants: Grant[], memberships: Membership[] = []): ActualState {
  const role = (name: string) => ({ ...ROLE_ATTRIBUTE_DEFAULTS, name, password: { kind: 'none' as const }, system: false });
  return {
    serverVersion: 160000,
    currentUser: 'admin',
    roles: [role('admin'), role('reader'), role('writer'), role('other')],
    memberships,
    roleSettings: [],
    server: { embedded: false, superuser: true, settings: [], availableExtensions: [], hbaRules: [] },
    databases: [database(grants)],
  };
}

function desired(grants: DesiredGrant[], memberships: DesiredState['memberships'] = []): DesiredState {
  const role = (name: string) => ({ ...ROLE_ATTRIBUTE_DEFAULTS, name });
  return {
    roles: [role('reader'), role('writer'), role('other')],
    absentRoles: [],
    memberships,
    grants,
    defaultPrivileges: [],
    rlsTables: [],
    policies: [],
    roleSettings: [],
    serverSettings: [],
  };
}

function run(wanted: DesiredState, state: ActualState, options: Partial<DiffInput> = {}) {
  return diff({
    target: 'prod',
    desired: wanted,
    actual: state,
    scope: { ignoreRoles: [], dropUnmanagedRoles: false, managePublic: false },
    managedDatabases: ['app'],
    privileges: pg16.privileges,
    membershipOptions: true,
    passwords: new Map<string, PasswordStatus>(),
    ...options,
  });
}

const orders = { kind: 'table' as const, schema: 'public', name: 'orders' };

function held(grantee: string, privilege: string, grantor: string, grantOption = false): Grant {
  return { database: 'app', grantee, privilege, object: { ...orders }, grantOption, grantor };
}

function declared(grantees: string[], privileges: string[], grantOption = false, selector: DesiredGrant['selector'] = orders): DesiredGrant {
  return { database: 'app', grantees, privileges, selector, grantOption, source: { file: 'security.yaml', path: ['grants', grantees.join()] } };
}

describe('diff order', () => {
  it('grants in declared order, then revokes in inspected order', () => {
    const result = run(
      desired([declared(['writer', 'reader'], ['UPDATE', 'SELECT'])]),
      actual([held('reader', 'DELETE', 'admin'), held('writer', 'UPDATE', 'admin'), held('other', 'INSERT', 'admin'), held('reader', 'TRUNCATE', 'admin')]),
    );

    expect(result.changes.map((change) => change.address)).toEqual([
      'prod/app: grant SELECT on table public.orders to writer',
      'prod/app: grant UPDATE on table public.orders to reader',
      'prod/app: grant SELECT on table public.orders to reader',
      'prod/app: revoke DELETE on table public.orders from reader',
      'prod/app: revoke INSERT on table public.orders from other',
      'prod/app: revoke TRUNCATE on table public.orders from reader',
    ]);
  });

  it('revokes once per grantor', () => {
    const result = run(desired([]), actual([held('reader', 'SELECT', 'other'), held('writer', 'SELECT', 'admin'), held('reader', 'SELECT', 'admin')]));

    expect(result.changes).toEqual([
      {
        kind: 'revoke',
        address: 'prod/app: revoke SELECT on table public.orders from reader (granted by other)',
        database: 'app',
        destructive: true,
        grant: held('reader', 'SELECT', 'other'),
        grantOptionOnly: false,
      },
      {
        kind: 'revoke',
        address: 'prod/app: revoke SELECT on table public.orders from reader',
        database: 'app',
        destructive: true,
        grant: { ...held('reader', 'SELECT', 'admin'), grantor: undefined },
        grantOptionOnly: false,
      },
      {
        kind: 'revoke',
        address: 'prod/app: revoke SELECT on table public.orders from writer',
        database: 'app',
        destructive: true,
        grant: { ...held('writer', 'SELECT', 'admin'), grantor: undefined },
        grantOptionOnly: false,
      },
    ]);
  });

  it('revokes the grant option of each grantor holding it', () => {
    const wanted = declared(['reader'], ['SELECT']);
    const result = run(
      desired([wanted]),
      actual([held('reader', 'SELECT', 'other', true), held('reader', 'SELECT', 'writer'), held('reader', 'SELECT', 'admin', true)]),
    );

    expect(result.changes.map((change) => [change.address, change.kind === 'revoke' && change.grantOptionOnly, change.source])).toEqual([
      ['prod/app: revoke grant option for SELECT on table public.orders from reader (granted by other)', true, wanted.source],
      ['prod/app: revoke grant option for SELECT on table public.orders from reader', true, wanted.source],
    ]);
  });

  it('merges a privilege declared twice', () => {
    const result = run(desired([declared(['reader'], ['SELECT']), declared(['reader'], ['SELECT', 'INSERT'], true)]), actual([]));

    expect(result.changes.map((change) => change.kind === 'grant' && [change.address, change.grant.grantOption, change.source?.path])).toEqual([
      ['prod/app: grant SELECT on table public.orders to reader', true, ['grants', 'reader']],
      ['prod/app: grant INSERT on table public.orders to reader', true, ['grants', 'reader']],
    ]);
  });

  it('leaves owner and column privileges apart', () => {
    const mine = { kind: 'table' as const, schema: 'public', name: 'mine' };
    const column = (name: string, grantee: string): Grant => ({
      database: 'app',
      grantee,
      privilege: 'SELECT',
      object: { kind: 'column', schema: 'public', name, column: 'id' },
      grantOption: false,
      grantor: 'admin',
    });
    const result = run(
      desired([declared(['reader'], ['SELECT'], false, mine), declared(['writer'], ['SELECT'], false, { ...orders, columns: ['total'] })]),
      actual([column('mine', 'reader'), column('orders', 'writer'), column('orders', 'reader')]),
    );

    expect(result.changes.map((change) => change.address)).toEqual([
      'prod/app: grant SELECT on column public.orders.total to writer',
      'prod/app: revoke SELECT on column public.orders.id from writer',
      'prod/app: revoke SELECT on column public.orders.id from reader',
    ]);
  });

  it('revokes a membership once per grantor', () => {
    const member = (role: string, grantor: string, admin = false): Membership => ({ role, member: 'reader', admin, inherit: true, set: true, grantor });
    const result = run(
      desired([], [{ role: 'writer', member: 'reader', admin: false, inherit: null, set: null }]),
      actual([], [member('other', 'admin'), member('writer', 'admin', true), member('other', 'writer'), member('writer', 'other')]),
    );

    expect(result.changes.map((change) => change.address)).toEqual([
      'prod: revoke admin option for role writer from reader',
      'prod: revoke role other from reader (granted by admin)',
      'prod: revoke role other from reader (granted by writer)',
    ]);
    expect(result.changes[0]).toMatchObject({ kind: 'revoke_membership', adminOptionOnly: true, membership: { ...member('writer', 'admin'), admin: true } });
  });

  it('keeps the last declaration of a membership in the first place', () => {
    const result = run(
      desired([], [
        { role: 'writer', member: 'reader', admin: false, inherit: null, set: null },
        { role: 'other', member: 'reader', admin: false, inherit: null, set: null },
        { role: 'writer', member: 'reader', admin: true, inherit: null, set: null },
      ]),
      actual([]),
    );

    expect(result.changes.map((change) => change.kind === 'grant_membership' && [change.membership.role, change.membership.admin])).toEqual([
      ['writer', true],
      ['other', false],
    ]);
  });
});

describe('diff through revoke cascades', () => {
  const grants = (result: ReturnType<typeof run>) =>
    result.changes.map((change) => (change.kind === 'grant' ? `${change.address}${change.grant.grantOption ? ' with grant option' : ''}` : change.address));

  it('grants again what a grant option revoke cascades to', () => {
    // The writer keeps SELECT but loses its grant option, which takes the reader's SELECT too.
    const result = run(
      desired([declared(['writer', 'reader'], ['SELECT'])]),
      actual([held('writer', 'SELECT', 'admin', true), held('reader', 'SELECT', 'writer')]),
    );

    expect(grants(result)).toEqual([
      'prod/app: revoke grant option for SELECT on table public.orders from writer',
      'prod/app: grant SELECT on table public.orders to reader',
    ]);
  });

  it('follows a cascade down a chain', () => {
    // admin → writer → other → reader. The writer is not declared, so its SELECT goes, and
    // with it the other's and then the reader's.
    const result = run(
      desired([declared(['other'], ['SELECT'], true), declared(['reader'], ['SELECT'])]),
      actual([held('writer', 'SELECT', 'admin', true), held('other', 'SELECT', 'writer', true), held('reader', 'SELECT', 'other')]),
    );

    expect(grants(result)).toEqual([
      'prod/app: revoke SELECT on table public.orders from writer',
      'prod/app: grant SELECT on table public.orders to other with grant option',
      'prod/app: grant SELECT on table public.orders to reader',
    ]);
  });

  it('keeps a privilege that another grantor also gave', () => {
    const result = run(
      desired([declared(['writer', 'reader'], ['SELECT'])]),
      actual([held('writer', 'SELECT', 'admin', true), held('reader', 'SELECT', 'writer'), held('reader', 'SELECT', 'admin')]),
    );

    expect(grants(result)).toEqual(['prod/app: revoke grant option for SELECT on table public.orders from writer']);
  });

  it('cascades within one privilege only', () => {
    // The writer loses the grant option of SELECT, not of INSERT, which it passed on.
    const result = run(
      desired([declared(['writer'], ['SELECT']), declared(['writer'], ['INSERT'], true), declared(['reader'], ['INSERT'])]),
      actual([held('writer', 'SELECT', 'admin', true), held('writer', 'INSERT', 'admin', true), held('reader', 'INSERT', 'writer')]),
    );

    expect(grants(result)).toEqual(['prod/app: revoke grant option for SELECT on table public.orders from writer']);
  });

  it('leaves grants whose grantor had no grant option', () => {
    // A grantor without the grant option, as after a change of owner, loses nothing now.
    const result = run(desired([declared(['writer', 'reader'], ['SELECT'])]), actual([held('writer', 'SELECT', 'admin'), held('reader', 'SELECT', 'writer')]));

    expect(grants(result)).toEqual([]);
  });
});
