import type { CommandIo } from '../cli/io.js';
import {
  backupCommand,
  changePasswordCommand,
  configureCommand,
  initCommand,
  lockCommand,
  restoreCommand,
  unlockCommand,
} from './cli-admin.js';
import {
  deleteCommand,
  historyCommand,
  listCommand,
  retrieveCommand,
  rotateCommand,
  showCommand,
  storeBatchCommand,
  storeCommand,
  updateCommand,
} from './cli-entries.js';
import type { CliContext } from './cli-support.js';
import { VaultError } from './errors.js';
import type { AccessEvent } from './vault.js';

type VaultCommand = (args: string[], context: CliContext) => Promise<number>;

const COMMANDS: Record<string, VaultCommand> = {
  init: initCommand,
  store: storeCommand,
  'store-batch': storeBatchCommand,
  retrieve: retrieveCommand,
  list: listCommand,
  show: showCommand,
  update: updateCommand,
  delete: deleteCommand,
  rotate: rotateCommand,
  history: historyCommand,
  lock: lockCommand,
  unlock: unlockCommand,
  'change-password': changePasswordCommand,
  backup: backupCommand,
  restore: restoreCommand,
  configure: configureCommand,
};

export const VAULT_HELP = `Usage: aishell vault <command> [options]

Commands:
  init                    create a vault with a master password (and optional --key-file)
  store NAME              add an entry; --force replaces an existing one
  store-batch FILE|-      add entries from a JSON object {"name": "value" | {"value": ..., "metadata": ...,
                          "expiresIn": "90d", "expiresAt": ..., "keepHistory": N}} in one save
  retrieve NAME           print the value (the only command that prints one); --previous N for an older one,
                          --allow-expired, --no-newline
  list                    table of entries (key, created, expires, last accessed, version)
  show NAME               metadata, times, history depth and pending state; never the value
  update NAME             set a new value and/or --metadata, --expires-in, --keep-history
  delete NAME             delete an entry with its history
  rotate NAME             replace the value with a generated password (--length 32,
                          --require uppercase,lowercase,digits,special, --exclude CLASSES) or one read
                          like store reads it
  history NAME            versions kept for an entry (no values)
  unlock                  start a session so later commands need no password: eval "$(aishell vault unlock)"
                          --timeout 15m sets the idle time after which it ends (at most 12h)
  lock                    end the unlock sessions of this vault
  change-password         set a new master password and re-key the vault (--new-password-file FILE,
                          --new-key-file FILE, --no-key-file, --kdf scrypt|argon2id); the other key slots
                          are re-wrapped, which needs their credentials (--other-password-file FILE,
                          KMS access, PKCS#11 PIN) unless --drop-other-slots removes them
  backup FILE             write an encrypted, verified copy of the vault (--force overwrites FILE)
  restore FILE            verify a backup, then replace the vault with it, keeping the replaced file
                          (--force allows a backup of another vault)
  configure               show settings, key slots and the values to pin, or change them: --keep-history N,
                          --auto-lock 15m, --add-slot password|aws-kms|gcp-kms|pkcs11, --remove-slot ID
                          (re-keys like change-password)
                          aws-kms: --kms-key-id ARN --region R [--endpoint URL]
                          gcp-kms: --kms-key-name projects/.../cryptoKeys/K [--endpoint URL]
                          pkcs11: --pkcs11-module PATH --token-label L --key-label L [--create-key]
                          --endpoint applies to this command only; the file never records an endpoint

Trusted settings, never read from the vault file: AISHELL_VAULT_ID and AISHELL_VAULT_SLOT_FINGERPRINT
  (or vault.id, vault.slot_fingerprint) reject another file; AWS_ENDPOINT_URL_KMS and
  AISHELL_GCP_KMS_ENDPOINT (or vault.aws_kms_endpoint, vault.gcp_kms_endpoint) select KMS endpoints.

Values are read with --stdin, --from-file FILE or a hidden prompt, never from an argument.
Entry options: --metadata JSON, --expires-in 90d (s, m, h, d, w), --expires-at DATE, --no-expiry,
  --keep-history N (previous values kept)

Common options:
  --vault-path PATH       vault file (else AISHELL_VAULT_PATH, vault.path of security.yaml, ~/.aishell/vault)
  -f, --file PATH         security.yaml (or directory) to read vault.path from
  --password-file FILE    master password file (else AISHELL_VAULT_PASSWORD, the session, KMS/PKCS#11 slots,
                          or a prompt on a terminal)
  --key-file FILE         key file required by the password slot (else AISHELL_VAULT_KEY_FILE)
  --slot ID|TYPE          unlock with this key slot only (else AISHELL_VAULT_SLOT)
  --pin-file FILE         PKCS#11 token PIN (else AISHELL_PKCS11_PIN)
  --pkcs11-module PATH    PKCS#11 module to load (else AISHELL_PKCS11_MODULE, vault.pkcs11_module of
                          security.yaml); the vault file never names it
  --audit-reason TEXT     reason recorded with the change and reported to the audit log
  --format text|json      output format of list, show, history, configure and unlock
`;

/**
 * Runs `aishell vault ...`. Output goes to io.stdout and io.stderr; the returned number is the
 * exit code: 0 on success, 1 on any error. `onAccess` receives every vault access (no values).
 */
export async function runVaultCommand(
  args: string[],
  io: CommandIo,
  options: { onAccess?: (event: AccessEvent) => void } = {},
): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    io.stderr.write(VAULT_HELP);
    return 1;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(VAULT_HELP);
    return 0;
  }

  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr.write(`error: unknown vault command "${name}"; run \`aishell vault --help\` for the list\n`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(VAULT_HELP);
    return 0;
  }

  try {
    return await command(rest, { io, onAccess: options.onAccess });
  } catch (error) {
    io.stderr.write(`error: ${describeError(error)}\n`);
    return 1;
  }
}

function describeError(error: unknown): string {
  if (error instanceof VaultError) return error.message;
  const code = (error as { code?: string }).code;
  // parseArgs errors name the option, never its value.
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    return `${(error as Error).message}; run \`aishell vault --help\``;
  }
  return `unexpected failure: ${(error as Error).message}`;
}
