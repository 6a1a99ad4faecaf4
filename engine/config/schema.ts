import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import {
  compileFileSchema,
  fileSchemaOf,
  GENERATED_VALIDATOR_FILE,
  schemaFingerprint,
  type FileValidators,
  type JsonSchemaObject,
} from './schema-compile.js';

export type { JsonSchemaObject };

/** The JSON Schema of security.yaml, and a validator for one file of a configuration. */
export interface SchemaValidator {
  schema: JsonSchemaObject;
  /** Top-level keys that the merged configuration must have (`version`, `targets`). */
  requiredSections: readonly string[];
  /** Validates one file; top-level keys are optional because a directory splits them up. */
  validateFile(document: unknown): ErrorObject[];
}

/** The exports of the generated module: ajv's standalone validators and the schema digest. */
interface GeneratedValidators extends FileValidators {
  fingerprint: string;
}

let cached: Promise<SchemaValidator> | undefined;

/**
 * Loads the validators once per process from the module that `npm run build` generates. When that
 * module is missing (tests run from the sources) or was built from another schema, ajv compiles
 * the schema here instead.
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

  const { validate, validateFast } = generated?.fingerprint === schemaFingerprint(fileSchema) ? generated : await compileFileSchema(fileSchema);
  return {
    schema: schema as JsonSchemaObject,
    requiredSections,
    validateFile(document: unknown): ErrorObject[] {
      if (validateFast(document)) return [];
      return validate(document) ? [] : [...(validate.errors ?? [])];
    },
  };
}

async function importGenerated(): Promise<GeneratedValidators | undefined> {
  const url = new URL(`./${GENERATED_VALIDATOR_FILE}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  return (await import(url.href)) as GeneratedValidators;
}
