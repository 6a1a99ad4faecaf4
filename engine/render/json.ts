import type { Plan } from '../plan/types.js';
import { orderPlanKeys } from './key-order.js';

/**
 * Renders the JSON plan: two-space indentation, keys in the order the plan types declare them,
 * and a trailing newline, so that equal plans give byte-equal files. The output is the versioned
 * contract that schemas/plan.schema.json describes.
 */
export function renderJson(plan: Plan): string {
  return `${JSON.stringify(orderPlanKeys(plan), null, 2)}\n`;
}
