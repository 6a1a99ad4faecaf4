import { randomInt } from 'node:crypto';

import { VaultError } from './errors.js';

export type CharacterClass = 'uppercase' | 'lowercase' | 'digits' | 'special';

/**
 * Characters of each class. The special characters leave out quotes, backslash, `$`, backtick,
 * `&`, `%`, `/`, `?`, `#` and space, so generated passwords need no escaping in shells,
 * connection URLs or SQL string literals.
 */
export const CHARACTER_CLASSES: Record<CharacterClass, string> = {
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  digits: '0123456789',
  special: '!*+,-.:;<=>@^_~',
};

export const DEFAULT_PASSWORD_LENGTH = 32;
export const MAX_PASSWORD_LENGTH = 4096;

export interface PasswordOptions {
  length?: number;
  /** Classes that must each appear at least once. */
  require?: readonly CharacterClass[];
  /** Classes to leave out entirely; a class cannot be both required and excluded. */
  exclude?: readonly CharacterClass[];
}

/**
 * Generates a random password with `crypto.randomInt`, which draws uniformly without modulo
 * bias. One character of each required class is placed first, the rest come from the union of
 * allowed classes, and a Fisher-Yates shuffle then hides where the required ones are.
 */
export function generatePassword(options: PasswordOptions = {}): string {
  const length = options.length ?? DEFAULT_PASSWORD_LENGTH;
  const required = [...new Set(options.require ?? [])];
  const excluded = new Set(options.exclude ?? []);

  for (const name of [...required, ...excluded]) {
    if (!Object.hasOwn(CHARACTER_CLASSES, name)) {
      throw new VaultError('INVALID_ARGUMENT', `unknown character class "${name}": use uppercase, lowercase, digits or special`);
    }
  }
  const conflict = required.find((name) => excluded.has(name));
  if (conflict !== undefined) {
    throw new VaultError('INVALID_ARGUMENT', `character class "${conflict}" cannot be both required and excluded`);
  }
  if (!Number.isInteger(length) || length < Math.max(1, required.length) || length > MAX_PASSWORD_LENGTH) {
    throw new VaultError(
      'INVALID_ARGUMENT',
      `password length ${length} is invalid: expected an integer from ${Math.max(1, required.length)} to ${MAX_PASSWORD_LENGTH}`,
    );
  }

  const alphabet = (Object.keys(CHARACTER_CLASSES) as CharacterClass[])
    .filter((name) => !excluded.has(name))
    .map((name) => CHARACTER_CLASSES[name])
    .join('');
  if (alphabet === '') {
    throw new VaultError('INVALID_ARGUMENT', 'every character class is excluded; allow at least one');
  }

  const characters = required.map((name) => pick(CHARACTER_CLASSES[name]));
  while (characters.length < length) characters.push(pick(alphabet));

  for (let index = characters.length - 1; index > 0; index -= 1) {
    const other = randomInt(index + 1);
    [characters[index], characters[other]] = [characters[other], characters[index]];
  }
  return characters.join('');
}

function pick(characters: string): string {
  return characters[randomInt(characters.length)];
}
