import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, CORE_SCHEMA, mergeTag } from 'js-yaml';
import {
  compileFileSchema,
  fastSchemaOf,
  fileSchemaOf,
  generateValidatorModule,
  schemaFingerprint,
  type FileValidators,
} from '../../engine/config/schema-compile.js';
import { GRANT_SELECTORS } from '../../engine/config/selectors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schema = JSON.parse(await readFile(path.join(root, 'schemas/security.schema.json'), 'utf8'));
const { fileSchema } = fileSchemaOf(schema);

/** Documents that break each kind of rule the schema has, and two valid ones. */
const DOCUMENTS: Record<string, unknown> = {
  'spec example': load(await readFile(path.join(root, 'test/config/fixtures/spec-example.yaml'), 'utf8'), { schema: CORE_SCHEMA.withTags(mergeTag) }),
  'empty file': {},
  'unknown keys': { rolez: {}, roles: { app: { conection_limit: 3 } }, vault: { location: 'x' } },
  'wrong types': { version: '1', roles: { app: { login: 'yes', connection_limit: 1.5 } }, grants: {} },
  'enum and const': { version: 2, targets: { prod: { engine: 'postgress', url: 'x' } }, grants: [{ to: 'a', privileges: 'ALL', on: { global: false } }] },
  'missing keys': { targets: { prod: { engine: 'postgres' } }, grants: [{ to: 'a' }], default_privileges: [{}] },
  'limits': { roles: { app: { connection_limit: -2, max_user_connections: -1 } }, credentials: { c: { generate: { length: 4 } }, d: { generate: { length: 4096 } } } },
  'empty values': { roles: { '': {}, app: { member_of: '', only: [] } }, targets: { prod: { engine: 'postgres', url: '' } } },
  'repeated items': { password_policy: { require: ['digits', 'digits'] }, audit: { operations: ['ddl', 'read', 'ddl'] } },
  'patterns': {
    targets: { 'bad name': { engine: 'postgres', url: 'postgres://a@h/d', password: 'hunter2' } },
    roles: { app: { valid_until: 'next year', settings: { 'bad-name': 1 } } },
    credentials: { '/x': { rotate_every: '90' } },
  },
  'grant selectors': {
    grants: [
      { to: 'a', privileges: 'SELECT', on: {} },
      { to: 'a', privileges: 'SELECT', on: { table: 't', schema: 's' } },
      { to: 'a', privileges: 'SELECT', on: { schema: 's', columns: ['c'] } },
      { to: 'a', privileges: 'SELECT', on: { tabel: 't' } },
    ],
  },
  'ledger with path and url': { ledger: { path: 'a', url: 'postgres://h/d' } },
  'null sections': { targets: null, roles: { app: null }, grants: null },
};

/** Grants whose `on:` sets every subset of up to three selectors, and values that are not mappings. */
function grantObjects(): unknown[] {
  const objects: unknown[] = [null, 'public.t', ['public.t'], 42, {}, { columns: ['a'] }, { tables: 'a', columns: ['b'] }];
  const values: Record<string, unknown> = { global: true, cluster: true };
  const selectors = [...GRANT_SELECTORS];
  for (const [i, first] of selectors.entries()) {
    objects.push({ [first]: values[first] ?? 'x' });
    for (const [j, second] of selectors.entries()) {
      if (j <= i) continue;
      objects.push({ [first]: values[first] ?? 'x', [second]: values[second] ?? 'y' });
      objects.push({ [first]: values[first] ?? 'x', [second]: values[second] ?? 'y', [selectors[(j + 1) % selectors.length]!]: 'z' });
    }
  }
  objects.push({ table: undefined, schema: 's' }, { global: false }, { table: 't', tabel: 't' });
  return objects.map((on) => ({ grants: [{ to: 'a', privileges: 'SELECT', on }] }));
}

describe('generated schema validator', () => {
  let dir: string;
  let generated: FileValidators & { fingerprint: string };
  let compiled: FileValidators;

  beforeAll(async () => {
    // Under dist/, so that the module's require() finds ajv's runtime helpers in node_modules.
    await mkdir(path.join(root, 'dist'), { recursive: true });
    dir = await mkdtemp(path.join(root, 'dist', 'schema-test-'));
    const file = path.join(dir, 'security-validator.js');
    await writeFile(file, await generateValidatorModule(schema));
    generated = await import(pathToFileURL(file).href);
    compiled = await compileFileSchema(fileSchema);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('carries the fingerprint of the schema', () => {
    expect(generated.fingerprint).toBe(schemaFingerprint(fileSchema));
  });

  it('fingerprint changes with the schema', () => {
    const changed = { ...fileSchema, additionalProperties: true };

    expect(schemaFingerprint(changed)).not.toBe(schemaFingerprint(fileSchema));
  });

  it.each(Object.keys(DOCUMENTS))('reports what ajv compile reports: %s', (name) => {
    const document = DOCUMENTS[name];

    const expectedValid = compiled.validate(document);
    const actualValid = generated.validate(document);

    expect(actualValid).toBe(expectedValid);
    expect(generated.validate.errors ?? null).toEqual(compiled.validate.errors ?? null);
  });

  it.each(Object.keys(DOCUMENTS))('fast validator agrees: %s', (name) => {
    const document = DOCUMENTS[name];
    const expected = compiled.validate(document);

    expect(generated.validateFast(document)).toBe(expected);
    expect(compiled.validateFast(document)).toBe(expected);
  });

  it('fast validator agrees on grant selectors', () => {
    const disagreements = grantObjects().filter((document) => generated.validateFast(document) !== compiled.validate(document));

    expect(disagreements).toEqual([]);
    // Valid: each selector alone, tables with columns, and a schema beside an undefined table.
    expect(grantObjects().filter((document) => compiled.validate(document)).length).toBe(GRANT_SELECTORS.length + 2);
  });

  it('fast schema replaces only the selector oneOf', () => {
    const fast = fastSchemaOf(fileSchema) as { definitions: Record<string, Record<string, unknown>> };
    const grantObject = fast.definitions.grantObject!;

    expect(grantObject.oneOf).toBeUndefined();
    expect(grantObject['x-exactly-one-present']).toEqual([...GRANT_SELECTORS]);
    expect({ ...grantObject, 'x-exactly-one-present': undefined, oneOf: fileSchema.definitions.grantObject.oneOf }).toEqual({
      ...fileSchema.definitions.grantObject,
      'x-exactly-one-present': undefined,
    });
    expect({ ...fast.definitions, grantObject: undefined }).toEqual({ ...fileSchema.definitions, grantObject: undefined });
  });

  it('test documents cover every failing keyword', () => {
    const keywords = new Set<string>();
    for (const document of Object.values(DOCUMENTS)) {
      if (!compiled.validate(document)) for (const error of compiled.validate.errors ?? []) keywords.add(error.keyword);
    }

    expect([...keywords].sort()).toEqual(
      ['additionalProperties', 'anyOf', 'const', 'enum', 'maximum', 'minItems', 'minLength', 'minimum', 'not', 'oneOf', 'pattern', 'propertyNames', 'required', 'type', 'uniqueItems'].sort(),
    );
  });
});
