/**
 * Turns a glob such as `legacy_*` or `tmp_?` into an anchored regular expression: `*` matches any
 * text, including newlines, and `?` one character. Every other character matches itself.
 */
export function globToRegExp(pattern: string, flags = ''): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, `s${flags}`);
}
