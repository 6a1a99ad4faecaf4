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
  const diagnostics: SourcedDiagnostic[] = [];
  const objects = resolveObjects(grant, database, diagnostics);
  const grants: Grant[] = [];

  for (const { object, kind } of objects) {
    const privileges = expandPrivileges(grant.privileges, kind, lists);
    const invalid = privileges.filter((privilege) => !lists[kind].includes(privilege));
    if (invalid.length > 0) {
      diagnostics.push({
        severity: 'error',
        summary: `privilege ${invalid.join(', ')} does not apply to ${kind === 'column' ? 'columns' : `a ${kind}`} (${describe(object)})`,
        fix: `use one of: ${lists[kind].join(', ')}, or ALL`,
        source: grant.source,
      });
      continue;
    }

    for (const grantee of grant.grantees) {
      for (const privilege of privileges) {
        grants.push({
          database: grant.database,
          grantee,
          privilege,
          object,
          grantOption: grant.grantOption,
          source: grant.source,
        });
      }
    }
  }
  return { grants, diagnostics };
}

function describe(object: ObjectRef): string {
  const name = displayQualified(object.schema, object.name);
  return object.column ? `${name}.${object.column}` : name;
}

function resolveObjects(
  grant: DesiredGrant,
  database: DatabaseState,
  diagnostics: SourcedDiagnostic[],
): { object: ObjectRef; kind: GrantObjectKind }[] {
  const selector = grant.selector;
  const notFound = (what: string, fix: string) => {
    diagnostics.push({ severity: 'error', summary: `${what} not found in database ${database.name}`, fix, source: grant.source });
    return [];
  };

  if (selector.kind === 'database') {
    return [{ object: { kind: 'database', schema: null, name: selector.name }, kind: 'database' }];
  }

  const index = objectIndex(database);
  if (selector.kind === 'schema') {
    const exists = index.schemas.has(selector.name);
    if (!exists) return notFound(`schema ${JSON.stringify(selector.name)}`, 'create the schema first, or correct its name');
    return [{ object: { kind: 'schema', schema: null, name: selector.name }, kind: 'schema' }];
  }

  const inSchema = index.bySchema.get(schemaKey(selector.kind, selector.schema));
  if (selector.name === '*') {
    const schemaExists = index.schemas.has(selector.schema);
    if (!schemaExists) return notFound(`schema ${JSON.stringify(selector.schema)}`, 'create the schema first, or correct its name');
    return [...(inSchema?.values() ?? [])].map((object) => ({ object: toRef(object), kind: selector.kind }));
  }

  const match = inSchema?.get(selector.name);
  if (!match) {
    const candidates = [...(inSchema?.values() ?? [])];
    const label = `${selector.kind} ${displayQualified(selector.schema, selector.name)}`;
    const similar = candidates.filter((object) => object.name.toLowerCase() === selector.name.toLowerCase());
    const fix =
      similar.length > 0
        ? `did you mean ${displayQualified(similar[0].schema, similar[0].name)}? Names are case-sensitive`
        : selector.kind === 'function'
          ? 'check the argument types: the signature must match the function exactly'
          : `create the ${selector.kind} first, or correct its name`;
    return notFound(label, fix);
  }

  if (selector.kind === 'table' && 'columns' in selector && selector.columns) {
    const columns = match.columns ?? [];
    const missing = selector.columns.filter((column) => !columns.includes(column));
    if (missing.length > 0) {
      return notFound(`column ${missing.map((column) => JSON.stringify(column)).join(', ')} of ${displayQualified(match.schema, match.name)}`, `the table has: ${columns.join(', ')}`);
    }
    return selector.columns.map((column) => ({ object: { ...toRef(match), kind: 'column' as const, column }, kind: 'column' as const }));
  }

  return [{ object: toRef(match), kind: selector.kind }];
}

/** The objects of one database by kind and schema, then by name, and the names of its schemas. */
interface ObjectIndex {
  /** The list indexed and its length, so that an index never outlives a change to the list. */
  objects: CatalogObject[];
  length: number;
  bySchema: Map<string, Map<string, CatalogObject>>;
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

  const index: ObjectIndex = { objects: database.objects, length: database.objects.length, bySchema: new Map(), schemas: new Set() };
  for (const object of database.objects) {
    if (object.kind === 'schema') index.schemas.add(object.name);
    const key = schemaKey(object.kind, object.schema);
    let named = index.bySchema.get(key);
    if (!named) {
      named = new Map();
      index.bySchema.set(key, named);
    }
    // The first object of a name wins, as the scan that this index replaces found it first.
    if (!named.has(object.name)) named.set(object.name, object);
  }
  indexes.set(database, index);
  return index;
}

function schemaKey(kind: string, schema: string | null): string {
  return `${kind}\0${schema ?? ''}`;
}

function toRef(object: CatalogObject): ObjectRef {
  const ref: ObjectRef = { kind: object.kind, schema: object.schema, name: object.name };
  if (object.routine !== undefined) ref.routine = object.routine;
  return ref;
}
