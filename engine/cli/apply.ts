import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { applyPlan, PlanMismatchError, StalePlanError } from '../apply/apply.js';
import { hasErrors } from '../diagnostics.js';
import { createPlan } from '../plan/create.js';
import { readPlanFile } from '../plan/planfile.js';
import { ApplyError, ServerSettingError } from '../provider.js';
import { loadContext, selectTargets, startReadAhead } from './context.js';
import type { CommandIo } from './io.js';
import { hasChanges, renderPlan } from './plan.js';

async function confirm(io: CommandIo): Promise<boolean> {
  const prompt = createInterface({ input: io.stdin, output: io.stdout as NodeJS.WritableStream, terminal: true });
  try {
    const answer = await prompt.question('\nDo you want to apply these changes? Only "yes" is accepted: ');
    return answer.trim() === 'yes';
  } finally {
    prompt.close();
  }
}

export async function runApply(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      file: { type: 'string', short: 'f' },
      target: { type: 'string', short: 't', multiple: true },
      'auto-approve': { type: 'boolean', default: false },
      'show-sql': { type: 'boolean', default: false },
      'no-color': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1) {
    io.stderr.write('error: apply takes at most one plan file\n');
    return 1;
  }

  // `apply PLANFILE` alone uses the configuration the plan was made from when the working
  // directory has none, since the plan's targets and secrets are declared there.
  let file = values.file;
  if (positionals[0] && file === undefined) {
    const { resolveConfigPath } = await import('../config/load.js');
    if (!existsSync(resolveConfigPath(io.cwd))) {
      try {
        file = (await readPlanFile(positionals[0])).configPath;
      } catch (error) {
        io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        return 1;
      }
    }
  }

  // Without a plan file, apply plans first, reading the catalogs while the configuration loads.
  const readAhead = positionals[0] ? undefined : await startReadAhead(io, file, values.target);
  let context;
  let selection;
  let plan;
  try {
    context = await loadContext(io, file);
    if (!context) return 1;
    selection = selectTargets(context.config, values.target);
    if (selection.error) {
      io.stderr.write(`error: ${selection.error}\n`);
      return 1;
    }
    plan = positionals[0] ? await readPlanFile(positionals[0]) : await createPlan(context, selection.names, readAhead);
  } catch (error) {
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await readAhead?.close();
  }
  if (positionals[0] && values.target?.length) {
    plan = { ...plan, targets: plan.targets.filter((target) => selection.names.includes(target.name)) };
  }
  const unknown = plan.targets.filter((target) => !context.config.targets[target.name]);
  if (unknown.length > 0) {
    io.stderr.write(`error: the plan names target ${unknown.map((t) => t.name).join(', ')}, which the configuration does not declare\n`);
    return 1;
  }

  io.stdout.write(await renderPlan(plan, 'text', io, values['show-sql'], values['no-color']));
  if (plan.targets.some((target) => hasErrors(target.diagnostics))) {
    io.stderr.write('error: the plan has errors, so nothing was applied\n');
    return 1;
  }
  if (!hasChanges(plan)) return 0;
  if (plan.credentials?.length && !context.credentials) {
    io.stderr.write('error: the plan rotates vault credentials, but the configuration declares none; nothing was applied\n');
    return 1;
  }

  if (!values['auto-approve']) {
    if (!io.stdin.isTTY) {
      io.stderr.write('error: apply needs confirmation, and there is no terminal to ask on; nothing was applied\n  fix: review the plan, then run apply with --auto-approve\n');
      return 1;
    }
    if (!(await confirm(io))) {
      io.stderr.write('Apply cancelled; nothing was changed.\n');
      return 1;
    }
  }

  // A rotated credential's new value is pending in the vault until a database has committed it.
  const { appliedRecords, failedRecords } = await import('./record.js');
  const committed = new Set<string>();
  try {
    await context.credentials?.beginApply(plan.credentials ?? [], context.config.password_policy);
    const applied = await applyPlan(context, plan, {
      onTargetApplied: (result) => {
        committed.add(result.target);
        context.recorder.addAll(appliedRecords(result));
      },
    });
    await context.credentials?.finishApply(true);
    const count = applied.reduce((sum, target) => sum + target.changes.length, 0);
    io.stdout.write(`\nApply complete: ${count} change(s) made on ${applied.length} target(s).\n`);
    const recorded = await context.recorder.flush();

    const unconverged = applied.filter((target) => target.remaining.length > 0);
    for (const target of unconverged) {
      io.stderr.write(
        `error: target ${target.target} was changed, but a plan made right after still shows ${target.remaining.length} change(s):\n${target.remaining.map((address) => `  ${address}`).join('\n')}\n  fix: something outside this apply changed them, or aishell cannot make them; report the plan output if it repeats\n`,
      );
    }
    return recorded && unconverged.length === 0 ? 0 : 1;
  } catch (error) {
    await context.credentials?.finishApply(committed.size > 0).catch((finishError: unknown) => {
      io.stderr.write(`error: could not finish the credential rotation: ${finishError instanceof Error ? finishError.message : String(finishError)}; the next plan repairs it\n`);
    });
    let message = String(error);
    if (error instanceof ApplyError) message = error.serverMessage;
    else if (error instanceof Error) message = error.message;
    const failedTarget = plan.targets.find((target) => target.changes.length > 0 && !committed.has(target.name));
    if (failedTarget && !(error instanceof ServerSettingError)) {
      const failedAddress = error instanceof ApplyError ? error.change.address : null;
      context.recorder.addAll(failedRecords(plan, failedTarget.name, failedAddress, message));
    }
    await context.recorder.flush();

    if (error instanceof ApplyError) {
      io.stderr.write(
        `\nerror: apply failed, and every database of the failing target was rolled back\n  change: ${error.change.address}\n  statement: ${error.statement}\n  server: ${error.serverMessage}\n`,
      );
    } else if (error instanceof ServerSettingError) {
      io.stderr.write(`\nerror: a server setting failed after the database transactions committed\n  change: ${error.change.address}\n  statement: ${error.statement}\n  server: ${error.serverMessage}\n  the changes before it stay applied; fix the cause and run plan again\n`);
    } else if (error instanceof StalePlanError || error instanceof PlanMismatchError) {
      io.stderr.write(`\nerror: ${error.message}\n`);
    } else {
      io.stderr.write(`\nerror: ${message}\n`);
    }
    return 1;
  }
}
