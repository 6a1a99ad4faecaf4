import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files.js';
import { renderJson } from '../render/json.js';
import { PLAN_FORMAT_VERSION, type Plan } from './types.js';

/**
 * Writes a plan file: the same bytes as `plan --format json`. It holds no secret, but it does
 * describe the security of the databases, so it is written with mode 0600.
 */
export async function writePlanFile(file: string, plan: Plan): Promise<void> {
  await writeFileAtomic(file, renderJson(plan));
}

/** Reads a plan file and checks it against schemas/plan.schema.json before anything uses it. */
export async function readPlanFile(file: string): Promise<Plan> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read plan file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const version = (data as Partial<Plan> | null)?.formatVersion;
  if (version !== PLAN_FORMAT_VERSION) {
    throw new Error(`${file} is not an aishell plan of format version ${PLAN_FORMAT_VERSION} (found ${JSON.stringify(version)}); create it with aishell plan --out`);
  }

  const validate = await planValidator();
  if (!validate(data)) {
    const first = validate.errors?.[0];
    throw new Error(`${file} is not a valid aishell plan: ${first?.instancePath || '/'} ${first?.message ?? ''}; create it again with aishell plan --out`);
  }
  return data as Plan;
}

async function planValidator() {
  const [{ Ajv }, { default: addFormats }, schemaText] = await Promise.all([
    import('ajv'),
    import('ajv-formats'),
    readFile(new URL('../../../schemas/plan.schema.json', import.meta.url), 'utf8').catch(() =>
      readFile(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8'),
    ),
  ]);
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(schemaText));
}
