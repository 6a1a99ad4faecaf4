import type { DatabaseState, Grant, ObjectRef } from '../model/types.js';

/** The id of one object, and the ids of its columns once a grant names them. */
interface ObjectEntry {
  id: number;
  columns: Map<string, number> | undefined;
}

/**
 * Numbers the objects, roles and privileges of one database's grants, so that the identity of a
 * privilege (grantee, object, privilege, column) is one integer rather than a string built and
 * hashed for each of possibly 100,000 grants.
 *
 * An object is identified by kind, schema, name and column, where a null schema and a missing
 * column count as empty: PostgreSQL allows neither an empty identifier nor a NUL in one.
 */
export class PrivilegeIds {
  /** kind → schema → name. */
  private readonly objects = new Map<string, Map<string, Map<string, ObjectEntry>>>();
  private readonly roles = new Map<string, number>();
  private readonly roleNames: string[] = [];
  private readonly privileges = new Map<string, number>();
  /** The role id of the owner of each object id, or -1 where the catalog does not list it. */
  private readonly ownerIds: number[] = [];
  /** The owner's name of each object id, or undefined where the catalog does not list it. */
  readonly owners: (string | undefined)[] = [];
  private lastObject: ObjectRef | undefined;
  private lastObjectId = -1;

  /**
   * Registers the owner of the database and of each listed object. Owners hold every privilege
   * on what they own, so their ACL entries are never managed. The last entry of a name wins.
   */
  constructor(database: DatabaseState) {
    this.setOwner(this.entry('database', '', database.name).id, database.owner);
    for (const object of database.objects) this.setOwner(this.entry(object.kind, object.schema ?? '', object.name).id, object.owner);
  }

  role(name: string): number {
    let id = this.roles.get(name);
    if (id === undefined) {
      id = this.roleNames.length;
      this.roles.set(name, id);
      this.roleNames.push(name);
    }
    return id;
  }

  roleName(id: number): string {
    return this.roleNames[id];
  }

  privilege(name: string): number {
    let id = this.privileges.get(name);
    if (id === undefined) {
      id = this.privileges.size;
      this.privileges.set(name, id);
    }
    return id;
  }

  get roleCount(): number {
    return this.roles.size;
  }

  get privilegeCount(): number {
    return this.privileges.size;
  }

  get objectCount(): number {
    return this.owners.length;
  }

  /**
   * Returns the id of the object a grant is on. A column's owner is its table's owner. An object
   * of another kind that names a column has no owner, because no catalog object matches it.
   */
  object(ref: ObjectRef): number {
    // Grants expanded from one declared grant share their object, and the grants of one ACL
    // follow each other, so the previous object is checked first.
    const last = this.lastObject;
    if (
      ref === last ||
      (last !== undefined && ref.kind === last.kind && ref.name === last.name && ref.schema === last.schema && ref.column === last.column)
    ) {
      return this.lastObjectId;
    }

    const schema = ref.schema ?? '';
    const entry = this.entry(ref.kind, schema, ref.name);
    let id = entry.id;
    const column = ref.column ?? '';
    if (column !== '') {
      entry.columns ??= new Map();
      const columnId = entry.columns.get(column);
      if (columnId === undefined) {
        id = this.addObject(ref.kind === 'column' ? this.owners[entry.id] : undefined);
        entry.columns.set(column, id);
      } else {
        id = columnId;
      }
    }
    this.lastObject = ref;
    this.lastObjectId = id;
    return id;
  }

  /** Returns whether role `grantee` owns object `object`, both ids from this instance. */
  isOwner(object: number, grantee: number): boolean {
    return this.ownerIds[object] === grantee;
  }

  /**
   * Returns a function that makes one number of the three ids of a grant, unique for as many
   * ids as this instance has handed out. Call it after every id has been taken.
   */
  keyFunction(): (object: number, role: number, privilege: number) => number | string {
    const roles = this.roles.size;
    const privileges = this.privileges.size;
    if (this.objectCount * roles * privileges <= Number.MAX_SAFE_INTEGER) {
      return (object, role, privilege) => (object * roles + role) * privileges + privilege;
    }
    return (object, role, privilege) => `${object}:${role}:${privilege}`;
  }

  /** Takes the ids of each grant: object, grantee and privilege, three numbers per grant. */
  identify(grants: readonly Grant[]): Int32Array {
    const ids = new Int32Array(grants.length * 3);
    for (let index = 0; index < grants.length; index++) {
      const grant = grants[index];
      ids[index * 3] = this.object(grant.object);
      ids[index * 3 + 1] = this.role(grant.grantee);
      ids[index * 3 + 2] = this.privilege(grant.privilege);
    }
    return ids;
  }

  private entry(kind: string, schema: string, name: string): ObjectEntry {
    let schemas = this.objects.get(kind);
    if (!schemas) {
      schemas = new Map();
      this.objects.set(kind, schemas);
    }
    let names = schemas.get(schema);
    if (!names) {
      names = new Map();
      schemas.set(schema, names);
    }
    let entry = names.get(name);
    if (!entry) {
      const table = kind === 'column' ? this.objects.get('table')?.get(schema)?.get(name) : undefined;
      entry = { id: this.addObject(table === undefined ? undefined : this.owners[table.id]), columns: undefined };
      names.set(name, entry);
    }
    return entry;
  }

  private addObject(owner: string | undefined): number {
    this.owners.push(owner);
    this.ownerIds.push(owner === undefined ? -1 : this.role(owner));
    return this.owners.length - 1;
  }

  private setOwner(id: number, owner: string): void {
    this.owners[id] = owner;
    this.ownerIds[id] = this.role(owner);
  }
}
