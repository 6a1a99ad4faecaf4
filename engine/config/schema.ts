import type { ErrorObject, ValidateFunction } from 'ajv';

/** The JSON Schema of security.yaml, and a validator for one file of a configuration. */
export interface SchemaValidator {
  schema: JsonSchemaObject;
  /** Top-level keys that the merged configuration must have (`version`, `targets`). */
  requiredSections: readonly string[];
  /** Validates one file; top-level keys are optional because a directory splits them up. */
  validateFile(document: unknown): ErrorObject[];
}

export type JsonSchemaObject = Record<string, unknown>;

let cached: Promise<SchemaValidator> | undefined;

/** Compiles the schema once per process; ajv and the schema are loaded on first use. */
export function schemaValidator(): Promise<SchemaValidator> {
  cached ??= compileValidator();
  return cached;
}

async function compileValidator(): Promise<SchemaValidator> {
  const [{ default: schema }, { Ajv }] = await Promise.all([
    import('../../schemas/security.schema.json', { with: { type: 'json' } }),
    import('ajv'),
  ]);

  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    // `oneOf` branches such as { required: [table] } name properties declared beside them.
    strictRequired: false,
    allowUnionTypes: true,
  });
  // Annotation read by the error messages: what a pattern expects, in words.
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });

  const fileSchema: JsonSchemaObject = { ...(schema as JsonSchemaObject) };
  const requiredSections = (fileSchema.required as string[] | undefined) ?? [];
  delete fileSchema.required;

  const validate: ValidateFunction = ajv.compile(fileSchema);
  return {
    schema: schema as JsonSchemaObject,
    requiredSections,
    validateFile(document: unknown): ErrorObject[] {
      return validate(document) ? [] : [...(validate.errors ?? [])];
    },
  };
}
