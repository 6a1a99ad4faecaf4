import type { SourcedDiagnostic } from '../model/desired.js';
import { displayQualified } from '../model/names.js';
import type { CatalogObject, DatabaseState, DesiredGrant, Grant, GrantObjectKind, ObjectRef } from '../model/types.js';

/** Privileges that ALL expands to, per object kind, for the server being planned. */
export type PrivilegeLists = Record<GrantObjectKind | 'tables' | 'sequences' | 'functions' | 'types' | 'schemas', string[]>;

const ALIASES: Record<string, string> = { TEMP: 'TEMPORARY' };

/** Upper-cases privilege names, resolves aliases and expands ALL for the object kind. */
export function expandPrivileges(privileges: string[], kind: keyof PrivilegeLists, lists: PrivilegeLists): string[] {
  const expanded = new Set<string>();
  for (const privilege of privileges) {
    const name = privilege.toUpperCase().replace(/ PRIVILEGES$/, '');
    if (name === 'ALL') {
      for (const each of lists[kind]) expanded.add(each);
    } else {
      expanded.add(ALIASES[name] ?? name);
    }
  }
  return [...expanded];
}

/**
 * Expands one declared grant into one Grant per grantee, object and privilege. Patterns such as
 * `public.*` match the objects that exist now; a named object that does not exist is an error.
 */
export function expandGrant(
  grant: DesiredGrant,
  database: DatabaseState,
  lists: PrivilegeLists,
): { grants: Grant[]; diagnostics: SourcedDiagnostic[] } {
  const grants: Grant[] = [];
  const diagnostics: SourcedDiagnostic[] = [];
  new GrantExpander(database, lists).expand(grant, grants, diagnostics);
  return { grants, diagnostics };
}

/** Privileges of one declared grant for one object kind, after ALL and aliases. */
interface Expansion {
  privileges: readonly string[];
  /** The privileges that do not apply to the kind. */
  invalid: readonly string[];
}

/**
 * Expands the declared grants of one database, reusing the privilege lists computed for earlier
 * grants. An estate may declare tens of thousands of grants with a handful of privilege lists.
 */
export class GrantExpander {
  private readonly index: ObjectIndex;
  private readonly expansions = new Map<string, Expansion>();

  constructor(
    private readonly database: DatabaseState,
    private readonly lists: PrivilegeLists,
  ) {
    this.index = objectIndex(database);
  }

  /** Appends the grants of `grant` to `grants`, and its errors to `diagnostics`. */
  expand(grant: DesiredGrant, grants: Grant[], diagnostics: SourcedDiagnostic[]): void {
    const resolved = this.resolveObjects(grant, diagnostics);
    if (resolved === null) return;

    const { kind, objects } = resolved;
    const { privileges, invalid } = this.expansion(grant.privileges, kind);
    const grantees = grant.grantees;
    // Indexed loops: diff runs once per plan, much of it before V8 optimises the code, and
    // unoptimised for-of loops allocate an iterator result per step.
    for (let objectIndex = 0; objectIndex < objects.length; objectIndex++) {
      const object = objects[objectIndex];
      if (invalid.length > 0) {
        diagnostics.push({
          severity: 'error',
          summary: `privilege ${invalid.join(', ')} does not apply to ${kind === 'column' ? 'columns' : `a ${kind}`} (${describe(object)})`,
          fix: `use one of: ${this.lists[kind].join(', ')}, or ALL`,
          source: grant.source,
        });
        continue;
      }

      for (let granteeIndex = 0; granteeIndex < grantees.length; granteeIndex++) {
        for (let privilegeIndex = 0; privilegeIndex < privileges.length; privilegeIndex++) {
          grants.push({
            database: grant.database,
            grantee: grantees[granteeIndex],
            privilege: privileges[privilegeIndex],
            object,
            grantOption: grant.grantOption,
            source: grant.source,
          });
        }
      }
    }
  }

  private expansion(declared: string[], kind: GrantObjectKind): Expansion {
    const key = `${kind}\0${declared.join('\0')}`;
    let expansion = this.expansions.get(key);
    if (!expansion) {
      const privileges = expandPrivileges(declared, kind, this.lists);
      expansion = { privileges, invalid: privileges.filter((privilege) => !this.lists[kind].includes(privilege)) };
      this.expansions.set(key, expansion);
    }
    return expansion;
  }

  /** Returns the objects a grant's selector names and their kind, or null after a diagnostic. */
  private resolveObjects(grant: DesiredGrant, diagnostics: SourcedDiagnostic[]): { kind: GrantObjectKind; objects: ObjectRef[] } | null {
    const selector = grant.selector;

    if (selector.kind === 'database') {
      return { kind: 'database', objects: [{ kind: 'database', schema: null, name: selector.name }] };
    }

    const index = this.index;
    if (selector.kind === 'schema') {
      const exists = index.schemas.has(selector.name);
      if (!exists) return this.notFound(grant, diagnostics, `schema ${JSON.stringify(selector.name)}`, 'create the schema first, or correct its name');
      return { kind: 'schema', objects: [{ kind: 'schema', schema: null, name: selector.name }] };
    }

    const inSchema = index.byKind.get(selector.kind)?.get(selector.schema);
    if (selector.name === '*') {
      const schemaExists = index.schemas.has(selector.schema);
      if (!schemaExists) return this.notFound(grant, diagnostics, `schema ${JSON.stringify(selector.schema)}`, 'create the schema first, or correct its name');
      return { kind: selector.kind, objects: inSchema === undefined ? [] : Array.from(inSchema.values(), (entry) => entry.ref) };
    }

    const match = inSchema?.get(selector.name);
    if (!match) {
      const candidates = inSchema === undefined ? [] : Array.from(inSchema.values(), (entry) => entry.object);
      const label = `${selector.kind} ${displayQualified(selector.schema, selector.name)}`;
      const similar = candidates.filter((object) => object.name.toLowerCase() === selector.name.toLowerCase());
      const fix =
        similar.length > 0
          ? `did you mean ${displayQualified(similar[0].schema, similar[0].name)}? Names are case-sensitive`
          : selector.kind === 'function'
            ? 'check the argument types: the signature must match the function exactly'
            : `create the ${selector.kind} first, or correct its name`;
      return this.notFound(grant, diagnostics, label, fix);
    }

    if (selector.kind === 'table' && 'columns' in selector && selector.columns) {
      const columns = match.object.columns ?? [];
      const missing = selector.columns.filter((column) => !columns.includes(column));
      if (missing.length > 0) {
        return this.notFound(
          grant,
          diagnostics,
          `column ${missing.map((column) => JSON.stringify(column)).join(', ')} of ${displayQualified(match.object.schema, match.object.name)}`,
          `the table has: ${columns.join(', ')}`,
        );
      }
      return { kind: 'column', objects: selector.columns.map((column) => columnRef(match, column)) };
    }

    return { kind: selector.kind, objects: [match.ref] };
  }

  private notFound(grant: DesiredGrant, diagnostics: SourcedDiagnostic[], what: string, fix: string): null {
    diagnostics.push({ severity: 'error', summary: `${what} not found in database ${this.database.name}`, fix, source: grant.source });
    return null;
  }
}

function describe(object: ObjectRef): string {
  const name = displayQualified(object.schema, object.name);
  return object.column ? `${name}.${object.column}` : name;
}

/**
 * A catalog object and the reference that its grants share. Grants are never changed after
 * diff makes them, so one reference per object serves every grant on it.
 */
interface IndexedObject {
  object: CatalogObject;
  ref: ObjectRef;
  /** References to columns of a table, made once a grant names them. */
  columns?: Map<string, ObjectRef>;
}

/** The objects of one database by kind, schema and name, and the names of its schemas. */
interface ObjectIndex {
  /** The list indexed and its length, so that an index never outlives a change to the list. */
  objects: CatalogObject[];
  length: number;
  byKind: Map<string, Map<string, Map<string, IndexedObject>>>;
  schemas: Set<string>;
}

/**
 * Built once per inspected database and kept while the database state lives, so that expanding
 * each declared grant is a look-up rather than a scan of every object.
 */
const indexes = new WeakMap<DatabaseState, ObjectIndex>();

function objectIndex(database: DatabaseState): ObjectIndex {
  const cached = indexes.get(database);
  if (cached && cached.objects === database.objects && cached.length === database.objects.length) return cached;

  const index: ObjectIndex = { objects: database.objects, length: database.objects.length, byKind: new Map(), schemas: new Set() };
  for (const object of database.objects) {
    if (object.kind === 'schema') index.schemas.add(object.name);
    let bySchema = index.byKind.get(object.kind);
    if (!bySchema) {
      bySchema = new Map();
      index.byKind.set(object.kind, bySchema);
    }
    let named = bySchema.get(object.schema ?? '');
    if (!named) {
      named = new Map();
      bySchema.set(object.schema ?? '', named);
    }
    // The first object of a name wins, as the scan that this index replaces found it first.
    if (!named.has(object.name)) named.set(object.name, { object, ref: toRef(object) });
  }
  indexes.set(database, index);
  return index;
}

function toRef(object: CatalogObject): ObjectRef {
  const ref: ObjectRef = { kind: object.kind, schema: object.schema, name: object.name };
  if (object.routine !== undefined) ref.routine = object.routine;
  return ref;
}

function columnRef(entry: IndexedObject, column: string): ObjectRef {
  entry.columns ??= new Map();
  let ref = entry.columns.get(column);
  if (!ref) {
    ref = { ...entry.ref, kind: 'column', column };
    entry.columns.set(column, ref);
  }
  return ref;
}
