import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { compileFileSchema, fileSchemaOf, GENERATED_VALIDATOR_FILE, schemaFingerprint, type JsonSchemaObject } from './schema-compile.js';

export type { JsonSchemaObject };

/** The JSON Schema of security.yaml, and a validator for one file of a configuration. */
export interface SchemaValidator {
  schema: JsonSchemaObject;
  /** Top-level keys that the merged configuration must have (`version`, `targets`). */
  requiredSections: readonly string[];
  /** Validates one file; top-level keys are optional because a directory splits them up. */
  validateFile(document: unknown): ErrorObject[];
}

/** The exports of the generated module: ajv's standalone validate function and the schema digest. */
interface GeneratedValidator {
  fingerprint: string;
  validate: { (data: unknown): boolean; errors?: ErrorObject[] | null };
}

let cached: Promise<SchemaValidator> | undefined;

/**
 * Loads the validator once per process. It is the module that `npm run build` generates, unless
 * that module is missing (tests run from the sources) or was built from another schema; then ajv
 * compiles the schema here.
 */
export function schemaValidator(): Promise<SchemaValidator> {
  cached ??= loadValidator();
  return cached;
}

async function loadValidator(): Promise<SchemaValidator> {
  const [{ default: schema }, generated] = await Promise.all([
    import('../../schemas/security.schema.json', { with: { type: 'json' } }),
    importGenerated(),
  ]);
  const { fileSchema, requiredSections } = fileSchemaOf(schema as JsonSchemaObject);

  const validate = generated?.fingerprint === schemaFingerprint(fileSchema) ? generated.validate : await compileFileSchema(fileSchema);
  return {
    schema: schema as JsonSchemaObject,
    requiredSections,
    validateFile(document: unknown): ErrorObject[] {
      return validate(document) ? [] : [...(validate.errors ?? [])];
    },
  };
}

async function importGenerated(): Promise<GeneratedValidator | undefined> {
  const url = new URL(`./${GENERATED_VALIDATOR_FILE}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  return (await import(url.href)) as GeneratedValidator;
}
