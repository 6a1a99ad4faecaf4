import { parseArgs } from 'node:util';
import { hasErrors } from '../diagnostics.js';
import { createPlan } from '../plan/create.js';
import type { Plan } from '../plan/types.js';
import { loadContext, selectTargets, startReadAhead } from './context.js';
import type { CommandIo } from './io.js';
import { writePlanFile } from '../plan/planfile.js';

const FORMATS = ['text', 'json', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

export const PLAN_OPTIONS = {
  file: { type: 'string', short: 'f' },
  target: { type: 'string', short: 't', multiple: true },
  format: { type: 'string', default: 'text' },
  out: { type: 'string' },
  'detailed-exitcode': { type: 'boolean', default: false },
  'show-sql': { type: 'boolean', default: false },
  'no-color': { type: 'boolean', default: false },
} as const;

/** Renders a plan in the requested format; renderers load only when used. */
export async function renderPlan(plan: Plan, format: Format, io: CommandIo, showSql: boolean, noColor: boolean): Promise<string> {
  if (format === 'json') return (await import('../render/json.js')).renderJson(plan);
  if (format === 'markdown') return (await import('../render/markdown.js')).renderMarkdown(plan);
  const color = Boolean(io.stdout.isTTY) && !noColor && io.env.NO_COLOR === undefined;
  return (await import('../render/text.js')).renderText(plan, { color, showSql });
}

/** True when apply would change a database or a vault credential. */
export function hasChanges(plan: Plan): boolean {
  return plan.targets.some((target) => target.changes.length > 0) || (plan.credentials?.length ?? 0) > 0;
}

export async function runPlan(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args, options: PLAN_OPTIONS, allowPositionals: false });
  const format = values.format as Format;
  if (!FORMATS.includes(format)) {
    io.stderr.write(`error: unknown format "${values.format}"\n  fix: use --format text, json or markdown\n`);
    return 1;
  }

  // The catalogs are read while the configuration loads; what was read is used only if the
  // loaded targets match, and closed in any case.
  const readAhead = await startReadAhead(io, values.file, values.target);
  let plan: Plan;
  let context;
  try {
    context = await loadContext(io, values.file);
    if (!context) return 1;
    const selection = selectTargets(context.config, values.target);
    if (selection.error) {
      io.stderr.write(`error: ${selection.error}\n`);
      return 1;
    }
    plan = await createPlan(context, selection.names, readAhead);
  } finally {
    await readAhead.close();
  }
  io.stdout.write(await renderPlan(plan, format, io, values['show-sql'], values['no-color']));

  if (values.out) await writePlanFile(values.out, plan);

  const { driftRecords } = await import('./record.js');
  context.recorder.add(...driftRecords(plan));
  if (!(await context.recorder.flush())) return 1;

  const failed = plan.targets.some((target) => hasErrors(target.diagnostics));
  if (failed) return 1;
  return values['detailed-exitcode'] && hasChanges(plan) ? 2 : 0;
}
