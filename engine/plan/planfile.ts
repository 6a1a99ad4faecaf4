import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files.js';
import { PLAN_FORMAT_VERSION, type Plan } from './types.js';

/**
 * Writes a plan file. It holds no secret, but it does describe the security of the databases,
 * so it is written with mode 0600 like every file aishell writes.
 */
export async function writePlanFile(file: string, plan: Plan): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(plan, null, 2)}\n`);
}

export async function readPlanFile(file: string): Promise<Plan> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read plan file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const plan = data as Partial<Plan>;
  if (plan.formatVersion !== PLAN_FORMAT_VERSION || !Array.isArray(plan.targets)) {
    throw new Error(`${file} is not an aishell plan file of format version ${PLAN_FORMAT_VERSION}; create it with aishell plan --out`);
  }
  return plan as Plan;
}
