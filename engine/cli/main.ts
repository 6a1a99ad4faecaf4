import { aishellVersion } from '../version.js';
import type { Command, CommandIo } from './io.js';

/**
 * The entry point. It imports only node built-ins at start-up and loads each command's module
 * when that command runs, so `aishell --help` does not pay for database drivers or crypto.
 */

const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.js')).runValidate,
  plan: async () => (await import('./plan.js')).runPlan,
  apply: async () => (await import('./apply.js')).runApply,
  vault: async () => {
    const [{ runVaultCommand }, { AuditRecorder }] = await Promise.all([import('../vault/cli.js'), import('./audit-recorder.js')]);
    // Every vault read and write goes to the audit ledger once the command ends.
    return async (args, io) => {
      // The vault command reads -f itself; here it only tells which ledger records its accesses.
      const { envWithConfiguredLedger, takeFileOption } = await import('./audit.js');
      const recorder = new AuditRecorder({ ...io, env: await envWithConfiguredLedger(args, takeFileOption(args).file, io) });
      const code = await runVaultCommand(args, io, { onAccess: recorder.vaultAccess });
      return (await recorder.flush()) ? code : code || 1;
    };
  },
  audit: async () => (await import('./audit.js')).runAudit,
};

const HELP = `aishell: database security as code

Usage:
  aishell validate [-f PATH]
      Check security.yaml against the schema and the engines' rules; report every problem.
  aishell plan [-f PATH] [-t TARGET]... [--format text|json|markdown] [--out PLANFILE]
               [--detailed-exitcode] [--show-sql]
      Inspect the live databases and show the changes that apply would make.
  aishell apply [PLANFILE | -f PATH] [-t TARGET]... [--auto-approve]
      Make the planned changes, one transaction per database.
  aishell vault <command>
      Manage the encrypted credential vault (aishell vault --help).
  aishell audit <command> [-f PATH]
      Read and verify the tamper-evident audit ledger (aishell audit --help); the ledger's
      location comes from the ledger section of security.yaml when it has one.

Options:
  -f, --file PATH        configuration file or directory (default ./security.yaml, or ./security/)
  -t, --target NAME      limit to this target; repeat for several (default: every target)
  -h, --help             show this help
  -v, --version          show the version

Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, 2 changes present
(only with --detailed-exitcode).
`;


export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(HELP);
    return name === undefined ? 1 : 0;
  }
  if (name === '-v' || name === '--version' || name === 'version') {
    io.stdout.write(`aishell ${aishellVersion()}\n`);
    return 0;
  }

  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`error: unknown command "${name}"\n  fix: run aishell --help to see the commands\n`);
    return 1;
  }
  const command = await load();
  return command(args, io);
}
