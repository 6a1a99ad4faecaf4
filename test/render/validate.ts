import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Compiles schemas/plan.schema.json with ajv in strict mode. Union types such as
 * `["string", "null"]` are standard JSON Schema, but ajv's strict mode rejects them unless
 * `allowUnionTypes` is set.
 */
export function planValidator(): (data: unknown) => { valid: boolean; errors: ErrorObject[] } {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8')) as object;
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  return (data) => {
    const valid = validate(data);
    return { valid, errors: validate.errors ?? [] };
  };
}
