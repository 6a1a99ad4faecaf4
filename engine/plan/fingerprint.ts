import { createHash } from 'node:crypto';
import type { ActualRole, ActualState, DesiredState, Grant, Membership, ObjectRef, RoleAttributes, StoredPassword } from '../model/types.js';

/**
 * A SHA-256 fingerprint of the inspected state that a plan depends on. A plan file is applied
 * only while the fingerprint still matches the server's state.
 *
 * Catalog queries return rows in no guaranteed order, so each list is digested as a multiset.
 * Every row gets a 64-bit hash of all its fields, and the list's digest is the number of rows
 * and the sums of those hashes, which no order of the rows changes. SHA-256 then covers these
 * digests and the rest of the state. No row is serialised and no list sorted, which matters for
 * a database of 100,000 grants.
 *
 * `roles` limits the fingerprint to the roles the plan reads: on a shared cluster, other teams'
 * roles come and go, and that must not make every saved plan stale. Null covers every role, as
 * drop_unmanaged_roles needs. Objects are always covered, since `schema.*` expands over them.
 * Server parameters are covered only by name in `settings`, the ones the plan sets, and
 * extensions and pg_hba.conf only when there is any: other plans do not read them, and tests
 * and teams that change other parameters must not make those plans stale.
 */
export function fingerprint(state: ActualState, roles: ReadonlySet<string> | null = null, settings: ReadonlySet<string> = new Set()): string {
  const relevant = (name: string) => roles === null || roles.has(name);
  const rows = new RowHash();
  const digest = (items: readonly unknown[]) => rows.digest(items);

  const normalised = {
    serverVersion: state.serverVersion,
    roles: rows.digestRoles(state.roles, relevant),
    memberships: rows.digestMemberships(state.memberships, relevant),
    roleSettings: digest(state.roleSettings.filter((setting) => relevant(setting.role))),
    server:
      settings.size > 0
      ? {
          settings: digest(state.server.settings.filter((setting) => settings.has(setting.name))),
          availableExtensions: digest(state.server.availableExtensions),
          hbaRules: state.server.hbaRules === null ? null : digest(state.server.hbaRules),
        }
      : null,
    databases: state.databases
      .map((database) => ({
        name: database.name,
        owner: database.owner,
        grants: rows.digestGrants(database.name, database.grants, relevant),
        defaultPrivileges: digest(database.defaultPrivileges.filter((entry) => relevant(entry.grantee) || relevant(entry.forRole))),
        objects: digest(database.objects),
        rlsTables: digest(database.rlsTables),
        policies: digest(database.policies),
        extensions: digest(database.extensions),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(normalised)).digest('hex')}`;
}

/** Collects the roles a plan reads: every role the file names, and PUBLIC. */
export function referencedRoles(desired: DesiredState): Set<string> {
  const names = new Set<string>(['PUBLIC']);
  // Indexed loops, as in RowHash: this runs once per plan, much of it unoptimised.
  for (let index = 0; index < desired.roles.length; index++) names.add(desired.roles[index].name);
  for (const role of desired.absentRoles) {
    names.add(role.name);
    if (role.reassignOwnedTo) names.add(role.reassignOwnedTo);
  }
  for (let index = 0; index < desired.memberships.length; index++) {
    names.add(desired.memberships[index].role).add(desired.memberships[index].member);
  }
  for (let index = 0; index < desired.grants.length; index++) {
    const grantees = desired.grants[index].grantees;
    for (let granteeIndex = 0; granteeIndex < grantees.length; granteeIndex++) names.add(grantees[granteeIndex]);
  }
  for (const entry of desired.defaultPrivileges) names.add(entry.grantee).add(entry.forRole);
  for (const setting of desired.roleSettings) names.add(setting.role);
  for (const policy of desired.policies) for (const role of policy.roles) names.add(role);
  return names;
}

// Type tags mixed in before each value, so that values of different types or shapes never
// hash alike: "1" and 1, null and "null", ["a", "b"] and ["ab"].
const STRING = 1;
const NUMBER = 2;
const TRUE = 3;
const FALSE = 4;
const NULL = 5;
const ARRAY = 6;
const OBJECT = 7;
const END = 8;
const SAME_DATABASE = 9;
const INTEGER = 10;

// The two lanes multiply by different odd constants: the 32-bit FNV prime and MurmurHash2's m.
const PRIME_A = 0x01000193;
const PRIME_B = 0x5bd1e995;

/** Compiles to true only when `Listed` names every key of T. */
type Covers<T, Listed extends keyof T> = [Exclude<keyof T, Listed>] extends [never] ? true : false;

// The row types that RowHash reads field by field. This fails to compile when one gains a field
// that the matching method does not mix in.
const fieldsCovered: [
  Covers<Grant, 'database' | 'grantee' | 'privilege' | 'object' | 'grantOption' | 'grantor' | 'source'>,
  Covers<ObjectRef, 'kind' | 'schema' | 'name' | 'column' | 'routine'>,
  Covers<Membership, 'role' | 'member' | 'admin' | 'inherit' | 'set' | 'grantor'>,
  Covers<ActualRole, keyof RoleAttributes | 'name' | 'password' | 'system'>,
  Covers<RoleAttributes, 'login' | 'superuser' | 'createdb' | 'createrole' | 'replication' | 'bypassrls' | 'inherit' | 'connectionLimit' | 'validUntil' | 'comment'>,
  Covers<Extract<StoredPassword, { kind: 'scram' }>, 'kind' | 'verifier'>,
] = [true, true, true, true, true, true];
void fieldsCovered;

/**
 * Hashes rows into two 32-bit lanes and sums them per list. A row is hashed key by key, skipping
 * undefined fields as JSON does, so its hash changes whenever its JSON would. The rows that come
 * by the ten thousand (grants, memberships and roles) are instead read field by field in a fixed
 * order, which is faster than walking their keys.
 *
 * This is no cryptographic hash. If the two lanes behave as independent random functions, a
 * row changed in ordinary use goes unnoticed with a chance of about 2^-64.
 *
 * NOTE: sums of row hashes do not resist rows chosen to collide. Between plan and apply, a role
 * that can create or rename tables or roles could pick names that keep every count and sum. That
 * hides another change from apply, which trusts the fingerprint of a plan it made itself.
 * Hashing the rows with SHA-256 in a canonical order would close that, at a higher cost.
 */
class RowHash {
  private laneA = 0;
  private laneB = 0;
  private count = 0;
  private sumA = 0;
  private sumB = 0;

  // The loops over rows are indexed: a plan computes one fingerprint, much of it before V8
  // optimises the code, and unoptimised for-of loops allocate an iterator result at every step.

  /** Returns the digest of a list of rows: `count:sumA:sumB`. */
  digest(items: readonly unknown[]): string {
    this.startList();
    for (let index = 0; index < items.length; index++) {
      this.startRow();
      this.value(items[index]);
      this.endRow();
    }
    return this.endList();
  }

  /** Returns the digest of the grants of relevant grantees in `database`. */
  digestGrants(database: string, grants: readonly Grant[], relevant: (name: string) => boolean): string {
    this.startList();
    for (let index = 0; index < grants.length; index++) {
      const grant = grants[index];
      if (!relevant(grant.grantee)) continue;
      this.startRow();
      this.grant(database, grant);
      this.endRow();
    }
    return this.endList();
  }

  /** Returns the digest of the memberships whose role or member is relevant. */
  digestMemberships(memberships: readonly Membership[], relevant: (name: string) => boolean): string {
    this.startList();
    for (let index = 0; index < memberships.length; index++) {
      const membership = memberships[index];
      if (!relevant(membership.member) && !relevant(membership.role)) continue;
      this.startRow();
      this.string(membership.role);
      this.string(membership.member);
      this.flag(membership.admin);
      this.flag(membership.inherit);
      this.flag(membership.set);
      this.optional(membership.grantor);
      this.endRow();
    }
    return this.endList();
  }

  /** Returns the digest of the relevant roles. */
  digestRoles(roles: readonly ActualRole[], relevant: (name: string) => boolean): string {
    this.startList();
    for (let index = 0; index < roles.length; index++) {
      const role = roles[index];
      if (!relevant(role.name)) continue;
      this.startRow();
      this.string(role.name);
      this.flag(role.login);
      this.flag(role.superuser);
      this.flag(role.createdb);
      this.flag(role.createrole);
      this.flag(role.replication);
      this.flag(role.bypassrls);
      this.flag(role.inherit);
      this.number(role.connectionLimit);
      this.optional(role.validUntil);
      this.optional(role.comment);
      const password = role.password;
      this.string(password.kind);
      this.optional(password.kind === 'scram' ? password.verifier : undefined);
      this.flag(role.system);
      this.endRow();
    }
    return this.endList();
  }

  private startList(): void {
    this.count = 0;
    this.sumA = 0;
    this.sumB = 0;
  }

  private startRow(): void {
    this.laneA = 0x811c9dc5;
    this.laneB = 0x2545f491;
  }

  private endRow(): void {
    this.count++;
    this.sumA = (this.sumA + finish(this.laneA)) >>> 0;
    this.sumB = (this.sumB + finish(this.laneB)) >>> 0;
  }

  private endList(): string {
    return `${this.count}:${this.sumA}:${this.sumB}`;
  }

  private grant(database: string, grant: Grant): void {
    // The database of a grant is nearly always the one it was read from, and a tag is cheaper
    // to mix in than the name.
    if (grant.database === database) this.tag(SAME_DATABASE);
    else this.string(grant.database);
    this.string(grant.grantee);
    this.string(grant.privilege);
    const object = grant.object;
    this.string(object.kind);
    this.optional(object.schema);
    this.string(object.name);
    this.optional(object.column);
    this.optional(object.routine);
    this.flag(grant.grantOption);
    this.optional(grant.grantor);
    this.value(grant.source);
  }

  /** Mixes in true, false, or one tag for null and undefined alike. */
  private flag(value: boolean | null | undefined): void {
    if (value === true) this.tag(TRUE);
    else if (value === false) this.tag(FALSE);
    else this.tag(NULL);
  }

  /** Mixes in a string, or one tag for null and undefined alike, as JSON leaves the latter out. */
  private optional(text: string | null | undefined): void {
    if (text === null || text === undefined) this.tag(NULL);
    else this.string(text);
  }

  private key(key: string): void {
    this.text(key);
  }

  /** Mixes in any JSON-like value, with the key order of its objects. */
  private value(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return;
      case 'number':
        this.number(value);
        return;
      case 'boolean':
        this.tag(value ? TRUE : FALSE);
        return;
      case 'object':
        if (value === null) {
          this.tag(NULL);
        } else if (Array.isArray(value)) {
          this.tag(ARRAY);
          this.tag(value.length);
          for (const item of value) this.value(item);
        } else {
          this.tag(OBJECT);
          const record = value as Record<string, unknown>;
          for (const key in record) {
            const item = record[key];
            if (item === undefined) continue;
            this.key(key);
            this.value(item);
          }
          this.tag(END);
        }
        return;
      default:
        // undefined, functions and symbols: JSON leaves them out too.
        return;
    }
  }

  /** Mixes in a number: an integer as itself, any other number as its text. */
  private number(value: number): void {
    if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) {
      this.tag(INTEGER);
      this.tag(value);
    } else {
      this.tag(NUMBER);
      this.text(String(value));
    }
  }

  private string(text: string): void {
    this.tag(STRING);
    this.text(text);
  }

  /** Mixes in the length, then each UTF-16 code unit, so that a text's end is unambiguous. */
  private text(text: string): void {
    let a = Math.imul(this.laneA ^ text.length, PRIME_A);
    let b = Math.imul(this.laneB ^ text.length, PRIME_B);
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      a = Math.imul(a ^ code, PRIME_A);
      b = Math.imul(b ^ code, PRIME_B);
    }
    // Multiplication only carries upward, so the high bits are folded down after each text.
    this.laneA = a ^ (a >>> 15);
    this.laneB = b ^ (b >>> 13);
  }

  private tag(tag: number): void {
    this.laneA = Math.imul(this.laneA ^ tag, PRIME_A);
    this.laneB = Math.imul(this.laneB ^ tag, PRIME_B);
  }
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function finish(hash: number): number {
  let mixed = hash ^ (hash >>> 16);
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  mixed ^= mixed >>> 16;
  return mixed >>> 0;
}
