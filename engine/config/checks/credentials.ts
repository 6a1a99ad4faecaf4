import { at, CheckContext } from './context.js';

/** Reports generated credentials shorter than the password policy allows, which rotation would reject. */
export function checkCredentials(context: CheckContext): void {
  const minimum = context.config.password_policy?.min_length;
  if (minimum === undefined) return;

  for (const [name, credential] of Object.entries(context.config.credentials)) {
    const length = credential.generate?.length;
    if (length === undefined || length >= minimum) continue;
    context.error(
      `credential "${name}" generates ${length} characters, fewer than password_policy.min_length (${minimum})`,
      at(context.source('credentials', name), 'generate', 'length'),
      `set length to at least ${minimum}`,
      true,
    );
  }
}
