import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ErrorObject } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, CORE_SCHEMA, mergeTag } from 'js-yaml';
import { compileFileSchema, fileSchemaOf, generateValidatorModule, schemaFingerprint } from '../../engine/config/schema-compile.js';

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

describe('generated schema validator', () => {
  let dir: string;
  let generated: { fingerprint: string; validate: { (data: unknown): boolean; errors?: ErrorObject[] | null } };

  beforeAll(async () => {
    // Under dist/, so that the module's require() finds ajv's runtime helpers in node_modules.
    await mkdir(path.join(root, 'dist'), { recursive: true });
    dir = await mkdtemp(path.join(root, 'dist', 'schema-test-'));
    const file = path.join(dir, 'security-validator.js');
    await writeFile(file, await generateValidatorModule(schema));
    generated = await import(pathToFileURL(file).href);
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

  it.each(Object.keys(DOCUMENTS))('reports what ajv compile reports: %s', async (name) => {
    const compiled = await compileFileSchema(fileSchema);
    const document = DOCUMENTS[name];

    const expectedValid = compiled(document);
    const actualValid = generated.validate(document);

    expect(actualValid).toBe(expectedValid);
    expect(generated.validate.errors ?? null).toEqual(compiled.errors ?? null);
  });

  it('test documents cover every failing keyword', async () => {
    const compiled = await compileFileSchema(fileSchema);
    const keywords = new Set<string>();
    for (const document of Object.values(DOCUMENTS)) {
      if (!compiled(document)) for (const error of compiled.errors ?? []) keywords.add(error.keyword);
    }

    expect([...keywords].sort()).toEqual(
      ['additionalProperties', 'anyOf', 'const', 'enum', 'maximum', 'minItems', 'minLength', 'minimum', 'not', 'oneOf', 'pattern', 'propertyNames', 'required', 'type', 'uniqueItems'].sort(),
    );
  });
});
