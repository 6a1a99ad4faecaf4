import type { SourcePosition } from '../config/types.js';
import type { ProviderSession } from '../provider.js';
import { connectTarget, planTarget, type PlanContext } from './build.js';
import type { ReadAhead } from './read-ahead.js';
import { PLAN_FORMAT_VERSION, summarise, type Plan, type TargetPlan } from './types.js';
import { redactUrl } from './providers.js';
import { aishellVersion } from '../version.js';

/**
 * Plans every selected target. A target that cannot be reached or inspected is reported as an
 * error diagnostic in its own section and does not hide the others. A session that `readAhead`
 * opened for a target is used instead of a new connection.
 */
export async function createPlan(context: PlanContext, targetNames: string[], readAhead?: ReadAhead): Promise<Plan> {
  const targets: TargetPlan[] = [];
  try {
    await context.credentials?.assess();
  } catch (error) {
    // Without the vault no target can be planned: each reports the vault's message.
    for (const name of targetNames) targets.push(failedTarget(context, name, error));
    targetNames = [];
  }
  for (const name of targetNames) {
    let session: ProviderSession | undefined;
    try {
      const early = await readAhead?.take(name, context.config.targets[name]);
      session = early?.session ?? (await connectTarget(context, name));
      targets.push((await planTarget(context, name, session, early?.inspection)).plan);
    } catch (error) {
      targets.push(failedTarget(context, name, error));
    } finally {
      await session?.close();
    }
  }

  return {
    formatVersion: PLAN_FORMAT_VERSION,
    aishellVersion: aishellVersion(),
    createdAt: new Date().toISOString(),
    configPath: context.configPath,
    targets,
    credentials: context.credentials?.planned() ?? [],
    summary: summarise(targets),
  };
}

function failedTarget(context: PlanContext, name: string, error: unknown): TargetPlan {
  const target = context.config.targets[name];
  const message = error instanceof Error ? error.message : String(error);
  return {
    name,
    engine: target.engine,
    url: redactUrl(target.url),
    databases: target.databases ?? [],
    serverVersion: 0,
    fingerprint: '',
    changes: [],
    diagnostics: [{ severity: 'error', summary: `target ${name}: ${message}`, fix: fixFor(message), ...targetPosition(context, name) }],
    unmanagedRoles: [],
  };
}

/** Points a connection error at the target's declaration, so the message names a line. */
function targetPosition(context: PlanContext, name: string): { position?: SourcePosition } {
  const source = context.config.sources.keys.get(`targets.${name}`);
  if (!source) return {};
  try {
    return { position: context.config.sources.locate({ file: source.file, path: [...source.path, 'url'] }) };
  } catch {
    return {};
  }
}

/** Suggests the usual remedy for the connection errors people meet first. */
function fixFor(message: string): string | undefined {
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT/.test(message)) return 'check the host and port in the url, and that the server is running and reachable';
  if (/password authentication failed|SASL|no password supplied/.test(message)) return "check the target's password (password: ${vault:NAME} or ${env:NAME})";
  if (/database ".*" does not exist/.test(message)) return "check the database in the url and the target's databases list";
  return undefined;
}
