/**
 * Turns ajv's errors into diagnostics a DBA can act on: the position of the offending key or
 * value, a plain-English summary that names it, and a fix such as the closest valid key.
 */
import type { ErrorObject } from 'ajv';
import type { Diagnostic } from '../diagnostics.js';
import { describePath } from './describe.js';
import type { KeyPath } from './positions.js';
import type { SourceFiles } from './source-files.js';
import { closestMatch, suggestionFix } from './suggest.js';
import { GRANT_SELECTORS } from './selectors.js';

type SchemaNode = Record<string, unknown>;

/** Translates the schema errors of one file; `document` is that file's parsed value. */
export function translateSchemaErrors(
  errors: readonly ErrorObject[],
  file: string,
  document: unknown,
  files: SourceFiles,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();

  for (const error of withoutBranchErrors(errors)) {
    const path = toKeyPath(error.instancePath, document);
    const message = translate(error, path);
    if (!message) continue;

    const position = files.locate({ file, path: message.path ?? path }, message.atValue ?? false);
    const key = `${position.line}:${position.column}:${message.summary}`;
    if (seen.has(key)) continue;
    seen.add(key);

    diagnostics.push({ severity: 'error', summary: message.summary, fix: message.fix, position });
  }
  return diagnostics;
}

interface Message {
  summary: string;
  fix?: string;
  /** Key path to point at, when not the failing value itself (an unknown key, a bad name). */
  path?: KeyPath;
  /** Point at the value rather than at its key. */
  atValue?: boolean;
}

function translate(error: ErrorObject, path: KeyPath): Message | undefined {
  const parentSchema = (error.parentSchema ?? {}) as SchemaNode;
  const what = describePath(path);

  if (error.propertyName !== undefined) return invalidName(error, path, parentSchema);

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const candidates = Object.keys((parentSchema.properties ?? {}) as SchemaNode);
      const where = path.length === 0 ? 'unknown top-level key' : 'unknown key';
      const suffix = path.length === 0 ? '' : ` in ${what}`;
      return { summary: `${where} "${key}"${suffix}`, fix: suggestionFix(key, candidates, 'keys'), path: [...path, key] };
    }

    case 'type':
      return {
        summary: `${what} must be ${typePhrase(String(error.params.type))}, got ${show(error.data, path)}`,
        atValue: true,
      };

    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map(String);
      const closest = typeof error.data === 'string' ? closestMatch(error.data, allowed) : undefined;
      return {
        summary: `${what} must be one of ${allowed.join(', ')}, got ${show(error.data, path)}`,
        fix: closest !== undefined ? `did you mean "${closest}"?` : undefined,
        atValue: true,
      };
    }

    case 'const':
      return constMessage(error, path, what);

    case 'required': {
      const missing = String(error.params.missingProperty);
      const property = ((parentSchema.properties ?? {}) as Record<string, SchemaNode>)[missing];
      const description = typeof property?.description === 'string' ? ` (${property.description})` : '';
      return { summary: `${what} is missing the required key "${missing}"`, fix: `add ${missing}:${description}` };
    }

    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        summary: `${what} must be ${error.params.comparison} ${error.params.limit}, got ${show(error.data, path)}`,
        atValue: true,
      };

    case 'minLength':
      return { summary: `${what} must not be empty`, atValue: true };

    case 'minItems':
      return { summary: `${what} must not be an empty list`, atValue: true };

    case 'uniqueItems': {
      const items = error.data as unknown[];
      return {
        summary: `${what} lists ${show(items[error.params.j as number], path)} twice`,
        fix: 'remove the repeated entry',
        atValue: true,
      };
    }

    case 'pattern':
      return patternMessage(error, path, what, parentSchema);

    case 'oneOf':
      return selectorMessage(error, path, what);

    case 'anyOf':
      if (error.schemaPath.endsWith('/dependencies/columns/anyOf')) {
        return {
          summary: `"columns" in ${what} needs "table" or "tables"`,
          fix: 'name the table beside the columns, such as on: { table: public.users, columns: [id, name] }',
          path: [...path, 'columns'],
        };
      }
      return { summary: `${what} ${error.message ?? 'is invalid'}` };

    case 'not':
      if (path[0] === 'ledger') {
        return {
          summary: 'ledger sets both "path" and "url"',
          fix: 'keep path for a ledger in local files, or url for a shared PostgreSQL ledger',
        };
      }
      return { summary: `${what} ${error.message ?? 'is invalid'}` };

    case 'propertyNames':
      // Reported through the error of the name itself, which carries `propertyName`.
      return undefined;

    default:
      return { summary: `${what} ${error.message ?? 'is invalid'}`, atValue: true };
  }
}

function constMessage(error: ErrorObject, path: KeyPath, what: string): Message {
  const allowed = error.params.allowedValue as unknown;
  if (path.length === 1 && path[0] === 'version') {
    return {
      summary: `unsupported version ${show(error.data, path)}`,
      fix: 'write version: 1, the only version of the format that this aishell reads',
      atValue: true,
    };
  }
  return {
    summary: `${what} must be ${JSON.stringify(allowed)}, got ${show(error.data, path)}`,
    fix: allowed === true ? `write ${String(path[path.length - 1])}: true, or remove the key` : undefined,
    atValue: true,
  };
}

function patternMessage(error: ErrorObject, path: KeyPath, what: string, parentSchema: SchemaNode): Message {
  const expected = typeof parentSchema['x-expected'] === 'string' ? parentSchema['x-expected'] : `text matching ${error.params.pattern}`;
  if (path[path.length - 1] === 'password') {
    return {
      summary: `${what} must be ${expected}; plain-text passwords are not allowed`,
      fix: 'store the password in the vault and write ${vault:NAME}, or pass it in an environment variable and write ${env:NAME}',
      atValue: true,
    };
  }
  return { summary: `${what} must be ${expected}, got ${show(error.data, path)}`, atValue: true };
}

/** The `on:` of a grant must name exactly one object; ajv reports this as a failed oneOf. */
function selectorMessage(error: ErrorObject, path: KeyPath, what: string): Message {
  const data = (error.data ?? {}) as Record<string, unknown>;
  const present = GRANT_SELECTORS.filter((selector) => Object.hasOwn(data, selector));

  if (present.length === 0) {
    return {
      summary: `${what} names no object`,
      fix: `add one of: ${GRANT_SELECTORS.join(', ')}`,
    };
  }
  return {
    summary: `${what} names ${present.length} objects (${present.join(', ')}); a grant takes exactly one`,
    fix: 'split it into one grant per object',
  };
}

/** Describes a key that is not a valid name: a target name with a space, an empty role name… */
function invalidName(error: ErrorObject, path: KeyPath, parentSchema: SchemaNode): Message {
  const name = error.propertyName!;
  const kind = NAME_KINDS[String(path[path.length - 1])] ?? 'key';
  const expected = typeof parentSchema['x-expected'] === 'string' ? parentSchema['x-expected'] : undefined;
  const rule = error.keyword === 'minLength' ? 'must not be empty' : `must be ${expected ?? `text matching ${error.params.pattern}`}`;
  return { summary: `invalid ${kind} "${name}": ${rule}`, path: [...path, name] };
}

const NAME_KINDS: Record<string, string> = {
  targets: 'target name',
  roles: 'role name',
  row_level_security: 'table name',
  policies: 'policy name',
  credentials: 'credential name',
  settings: 'parameter name',
};

/** Drops the per-branch errors of a failed oneOf/anyOf; its own message covers them. */
function withoutBranchErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  // Indexed by instance path, because a large file may fail the same oneOf in every grant.
  const branchPaths = new Map<string, string[]>();
  for (const error of errors) {
    if (error.keyword !== 'oneOf' && error.keyword !== 'anyOf') continue;
    const paths = branchPaths.get(error.instancePath) ?? [];
    paths.push(`${error.schemaPath}/`);
    branchPaths.set(error.instancePath, paths);
  }

  return errors.filter((error) => {
    const prefixes = branchPaths.get(error.instancePath);
    return !prefixes?.some((prefix) => error.schemaPath.startsWith(prefix));
  });
}

/** Turns a JSON pointer into a key path, with numbers where the document has a list. */
function toKeyPath(pointer: string, document: unknown): KeyPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node = document;

  for (const raw of pointer.slice(1).split('/')) {
    const step = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(step));
      node = node[Number(step)];
    } else {
      path.push(step);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[step] : undefined;
    }
  }
  return path;
}

const TYPE_PHRASES: Record<string, string> = {
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
};

function typePhrase(types: string): string {
  const phrases = types
    .split(',')
    .filter((type) => type !== 'null')
    .map((type) => TYPE_PHRASES[type] ?? type);
  return phrases.join(' or ');
}

/**
 * Shows a value in a message. Passwords and URLs (which may carry a password) are never shown,
 * whatever their form.
 */
export function show(value: unknown, path: KeyPath): string {
  const last = path[path.length - 1];
  const sensitive = path.includes('password') || last === 'url';
  if (sensitive && typeof value === 'string') return 'a value that is not shown';

  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(text);
  }
  return String(value);
}
