/**
 * Escapes characters that would let a name change how a terminal or a review page shows the
 * plan: C0 and C1 control characters (ANSI escape sequences, newlines, carriage returns) and the
 * Unicode bidirectional controls that reorder text on screen. Role names, comments and server
 * messages come from the database and are untrusted, so every renderer passes them through here.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Returns `text` with each unprintable character written as a visible escape such as `\x1b`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
