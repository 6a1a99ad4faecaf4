import { parseArgs } from 'node:util';
import type { CommandIo } from './io.js';
import { loadContext } from './context.js';

export async function runValidate(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: 'string', short: 'f' } } });
  const context = await loadContext(io, values.file);
  if (!context) return 1;
  const targets = Object.keys(context.config.targets).length;
  const roles = Object.keys(context.config.roles).length;
  io.stdout.write(`${context.configPath} is valid: ${targets} target(s), ${roles} role(s), ${context.config.grants.length} grant(s).\n`);
  return 0;
}
