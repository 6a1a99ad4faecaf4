import { defaultPrivilegeAddress, grantAddress } from './addresses.js';
import type { Change } from './changes.js';
import type { RoleScope } from './scope.js';
import type { DatabaseState, DefaultPrivilege, Grant, ObjectRef } from '../model/types.js';

/** Identity of a privilege on an object, without the grant option or the grantor. */
export function objectKey(object: ObjectRef): string {
  return [object.kind, object.schema ?? '', object.name, object.column ?? ''].join('\0');
}

export function grantKey(grant: Grant): string {
  return [grant.grantee, objectKey(grant.object), grant.privilege].join('\0');
}

export function defaultPrivilegeKey(entry: DefaultPrivilege): string {
  return [entry.forRole, entry.schema ?? '', entry.objectType, entry.grantee, entry.privilege].join('\0');
}

/** Owners hold every privilege on what they own, so their ACL entries are never managed. */
function ownerOf(database: DatabaseState): Map<string, string> {
  const owners = new Map<string, string>();
  owners.set(objectKey({ kind: 'database', schema: null, name: database.name }), database.owner);
  for (const object of database.objects) {
    owners.set(objectKey({ kind: object.kind, schema: object.schema, name: object.name }), object.owner);
  }
  return owners;
}

function ownerKey(object: ObjectRef): string {
  return objectKey(object.kind === 'column' ? { kind: 'table', schema: object.schema, name: object.name } : object);
}

/**
 * Compares the privileges of managed grantees on one database: grant what is missing, revoke
 * what is not declared, and add or remove WITH GRANT OPTION where only that differs.
 */
export function diffGrants(target: string, scope: RoleScope, desired: Grant[], actual: DatabaseState): Change[] {
  const owners = ownerOf(actual);
  const isOwner = (grant: Grant) => owners.get(ownerKey(grant.object)) === grant.grantee;

  const wanted = new Map<string, Grant>();
  for (const grant of desired) {
    if (isOwner(grant)) continue;
    const key = grantKey(grant);
    const previous = wanted.get(key);
    wanted.set(key, previous ? { ...previous, grantOption: previous.grantOption || grant.grantOption } : grant);
  }

  // A grantor is kept only when it is not the owner: then the revoke must name it (GRANTED BY),
  // because a revoke without it acts for the owner and would leave that grant in place.
  // Privileges of grantees that are not managed (PUBLIC without manage_public, undeclared or
  // ignored roles) are read only where the file grants them, so they converge but are never revoked.
  // The owner is looked up once per grant, and a grant is copied only when its grantor is dropped:
  // this loop runs once per inspected privilege, 110,000 times on an estate of 100,000 grants.
  const held = new Map<string, Grant[]>();
  for (const grant of actual.grants) {
    const key = grantKey(grant);
    if (!scope.managesGrantee(grant.grantee) && !wanted.has(key)) continue;
    const owner = owners.get(ownerKey(grant.object));
    if (owner === grant.grantee) continue;

    const entry = grant.grantor === owner ? { ...grant, grantor: undefined } : grant;
    const grantors = held.get(key);
    if (grantors) grantors.push(entry);
    else held.set(key, [entry]);
  }

  const changes: Change[] = [];
  for (const [key, grant] of wanted) {
    const current = held.get(key);
    const hasGrantOption = current?.some((each) => each.grantOption) ?? false;
    if (!current || (grant.grantOption && !hasGrantOption)) {
      changes.push({
        kind: 'grant',
        address: grantAddress(target, grant, 'grant'),
        database: grant.database,
        destructive: false,
        grant,
        source: grant.source,
      });
    } else if (!grant.grantOption && hasGrantOption && scope.managesGrantee(grant.grantee)) {
      for (const each of current.filter((entry) => entry.grantOption)) {
        changes.push({
          kind: 'revoke',
          address: grantAddress(target, each, 'revoke', true),
          database: each.database,
          destructive: true,
          grant: each,
          grantOptionOnly: true,
          source: grant.source,
        });
      }
    }
  }

  for (const [key, grants] of held) {
    if (wanted.has(key)) continue;
    for (const grant of grants) {
      changes.push({
        kind: 'revoke',
        address: grantAddress(target, grant, 'revoke'),
        database: grant.database,
        destructive: true,
        grant,
        grantOptionOnly: false,
      });
    }
  }
  return dedupeAddresses(changes);
}

/** Compares ALTER DEFAULT PRIVILEGES entries of managed grantees on one database. */
export function diffDefaultPrivileges(
  target: string,
  scope: RoleScope,
  desired: DefaultPrivilege[],
  actual: DefaultPrivilege[],
): Change[] {
  const isOwn = (entry: DefaultPrivilege) => entry.grantee === entry.forRole;
  const wanted = new Map<string, DefaultPrivilege>();
  for (const entry of desired) {
    if (isOwn(entry)) continue;
    const key = defaultPrivilegeKey(entry);
    const previous = wanted.get(key);
    wanted.set(key, previous ? { ...previous, grantOption: previous.grantOption || entry.grantOption } : entry);
  }
  const held = new Map<string, DefaultPrivilege>();
  for (const entry of actual) {
    const key = defaultPrivilegeKey(entry);
    if (isOwn(entry) || (!scope.managesGrantee(entry.grantee) && !wanted.has(key))) continue;
    held.set(key, entry);
  }

  // Without a pg_default_acl row of its own, a role's global defaults are PostgreSQL's built-in
  // ones, and the server removes a row that equals them, so they are never read back.
  // NOTE: for the same reason, manage_public cannot revoke a built-in PUBLIC default that has no row.
  const globalRows = new Set(actual.filter((entry) => entry.schema === null).map((entry) => `${entry.forRole}\0${entry.objectType}`));
  const builtIn = (entry: DefaultPrivilege) =>
    entry.schema === null &&
    entry.grantee === 'PUBLIC' &&
    !entry.grantOption &&
    ((entry.objectType === 'functions' && entry.privilege === 'EXECUTE') || (entry.objectType === 'types' && entry.privilege === 'USAGE')) &&
    !globalRows.has(`${entry.forRole}\0${entry.objectType}`);

  const changes: Change[] = [];
  for (const [key, entry] of wanted) {
    const current = held.get(key) ?? (builtIn(entry) ? entry : undefined);
    if (!current || (entry.grantOption && !current.grantOption)) {
      changes.push({
        kind: 'grant_default_privilege',
        address: defaultPrivilegeAddress(target, entry, 'grant'),
        database: entry.database,
        destructive: false,
        defaultPrivilege: entry,
        source: entry.source,
      });
    } else if (!entry.grantOption && current.grantOption) {
      changes.push({
        kind: 'revoke_default_privilege',
        address: defaultPrivilegeAddress(target, current, 'revoke', true),
        database: current.database,
        destructive: true,
        defaultPrivilege: current,
        grantOptionOnly: true,
        source: entry.source,
      });
    }
  }
  for (const [key, entry] of held) {
    if (wanted.has(key)) continue;
    changes.push({
      kind: 'revoke_default_privilege',
      address: defaultPrivilegeAddress(target, entry, 'revoke'),
      database: entry.database,
      destructive: true,
      defaultPrivilege: entry,
      grantOptionOnly: false,
    });
  }
  return changes;
}

/**
 * Appends the grantor to the addresses of a privilege granted by several grantors. Such a
 * privilege is revoked once per grantor, and every address in a plan must stay unique.
 */
function dedupeAddresses(changes: Change[]): Change[] {
  const seen = new Map<string, number>();
  for (const change of changes) seen.set(change.address, (seen.get(change.address) ?? 0) + 1);
  return changes.map((change) =>
    (seen.get(change.address) ?? 0) > 1 && change.kind === 'revoke' && change.grant.grantor
      ? { ...change, address: `${change.address} (granted by ${change.grant.grantor})` }
      : change,
  );
}
