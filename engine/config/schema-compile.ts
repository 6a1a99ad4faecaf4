/**
 * Compiles schemas/security.schema.json with ajv, either in the running process or, at build
 * time, into a standalone module (dist/engine/config/security-validator.js) that loads without
 * ajv's compiler. Both paths use the options and the code below, so their errors are the same
 * objects.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Ajv, ErrorObject, KeywordCxt, Options } from 'ajv';

export type JsonSchemaObject = Record<string, unknown>;

/** An ajv validate function, compiled in this process or loaded from the generated module. */
export interface ValidateFunction {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * The two validators of one file. `validateFast` accepts exactly the documents that `validate`
 * accepts, without building the error objects that `validate` builds for the branches of a
 * oneOf that a valid document fails. Its errors are not used: a document it rejects is validated
 * again by `validate`, whose errors the messages are made from.
 */
export interface FileValidators {
  validate: ValidateFunction;
  validateFast: ValidateFunction;
}

/** The file name of the generated module, next to schema.js in dist/engine/config. */
export const GENERATED_VALIDATOR_FILE = 'security-validator.js';

const AJV_OPTIONS: Options = {
  allErrors: true,
  verbose: true,
  strict: true,
  // `oneOf` branches such as { required: [table] } name properties declared beside them.
  strictRequired: false,
  allowUnionTypes: true,
};

/** The keyword that replaces a oneOf of single required properties in the schema of `validateFast`. */
const EXACTLY_ONE_PRESENT = 'x-exactly-one-present';

/** Splits the schema into the schema of one file and the sections that the merged configuration must have. */
export function fileSchemaOf(schema: JsonSchemaObject): { fileSchema: JsonSchemaObject; requiredSections: string[] } {
  // Top-level keys are optional in each file, because a directory splits them up.
  const fileSchema: JsonSchemaObject = { ...schema };
  const requiredSections = (fileSchema.required as string[] | undefined) ?? [];
  delete fileSchema.required;
  return { fileSchema, requiredSections };
}

/**
 * Returns a digest of the file schema and of this module's source, which contains the ajv
 * options and the fast keyword. The generated module stores the digest it was built from, so a module
 * built from another schema or another version of this code is ignored.
 */
export function schemaFingerprint(fileSchema: JsonSchemaObject): string {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  return createHash('sha256').update(JSON.stringify(fileSchema)).update(source).digest('hex');
}

/**
 * Returns a copy of the schema in which every oneOf whose branches each require one property,
 * such as the selectors of a grant's `on:`, becomes the keyword EXACTLY_ONE_PRESENT. Both accept
 * an object in which exactly one of those properties is present, and reject anything else.
 */
export function fastSchemaOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fastSchemaOf);
  if (node === null || typeof node !== 'object') return node;

  const result: JsonSchemaObject = {};
  for (const [key, value] of Object.entries(node)) {
    const properties = key === 'oneOf' ? singleRequiredProperties(value) : undefined;
    if (properties) result[EXACTLY_ONE_PRESENT] = properties;
    else result[key] = fastSchemaOf(value);
  }
  return result;
}

/** Returns the properties of a oneOf of two or more branches that are each { required: [name] }. */
function singleRequiredProperties(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches) || branches.length < 2) return undefined;
  const properties: string[] = [];
  for (const branch of branches) {
    const required = (branch as JsonSchemaObject | null)?.required;
    const single = Object.keys(branch ?? {}).length === 1 && Array.isArray(required) && required.length === 1 && typeof required[0] === 'string';
    if (!single) return undefined;
    properties.push(required[0] as string);
  }
  return properties;
}

async function createAjv(extra: Options = {}): Promise<Ajv> {
  const { Ajv, _ } = await import('ajv');
  const ajv = new Ajv({ ...AJV_OPTIONS, ...extra });
  // Annotation read by the error messages: what a pattern expects, in words.
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });

  // A oneOf of { required: [name] } branches passes only for an object with exactly one of the
  // names present. For a value that is not an object every branch passes, so the oneOf fails.
  // The keyword counts the names without building an error per failed branch.
  ajv.addKeyword({
    keyword: EXACTLY_ONE_PRESENT,
    schemaType: 'array',
    code(cxt: KeywordCxt) {
      const { gen, data } = cxt;
      const count = gen.let('present', 0);
      const isObject = _`${data} && typeof ${data} == "object" && !Array.isArray(${data})`;
      gen.if(isObject, () => {
        for (const name of cxt.schema as string[]) gen.if(_`${data}[${name}] !== undefined`, () => gen.assign(count, _`${count} + 1`));
      });
      cxt.fail(_`${count} !== 1`);
    },
  });
  return ajv;
}

/** Compiles both validators in this process: the slow path, with ajv's import, that the generated module avoids. */
export async function compileFileSchema(fileSchema: JsonSchemaObject): Promise<FileValidators> {
  const ajv = await createAjv();
  return { validate: ajv.compile(fileSchema), validateFast: ajv.compile(fastSchemaOf(fileSchema) as JsonSchemaObject) };
}

/**
 * Returns the source of an ES module that exports `validate`, `validateFast` and `fingerprint`.
 * ajv's standalone code loads its runtime helpers with require(), so the module creates one.
 */
export async function generateValidatorModule(schema: JsonSchemaObject): Promise<string> {
  const { fileSchema } = fileSchemaOf(schema);
  const ajv = await createAjv({ code: { source: true, esm: true } });
  ajv.addSchema(fileSchema, 'file');
  ajv.addSchema(fastSchemaOf(fileSchema) as JsonSchemaObject, 'fast');
  // A CommonJS module: its exports object is the import's default, and it also sets exports.default.
  const { default: standalone } = await import('ajv/dist/standalone/index.js');
  return [
    '// Generated by scripts/build-schema-validator.mjs from schemas/security.schema.json. Do not edit.',
    "import { createRequire } from 'node:module';",
    'const require = createRequire(import.meta.url);',
    `export const fingerprint = ${JSON.stringify(schemaFingerprint(fileSchema))};`,
    standalone.default(ajv, { validate: 'file', validateFast: 'fast' }),
    '',
  ].join('\n');
}
