// Characters that a terminal would act on instead of printing: C0 controls (newline, ESC), DEL,
// C1 controls, the Unicode line and paragraph separators, and the bidirectional formatting
// characters that reorder text on screen (Trojan Source, CVE-2021-42574).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Replaces control and bidirectional formatting characters with visible escapes (`\n`, `\x1b`,
 * `\u{202e}`), so a value taken from a record can neither start a new output line nor send
 * terminal escape sequences. Backslashes are left as they are.
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const named = NAMED[char];
    if (named) {
      return named;
    }
    const code = char.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
