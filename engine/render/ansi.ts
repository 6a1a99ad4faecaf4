/** SGR parameters (ECMA-48) of the few styles that plans use. */
const SGR = { bold: 1, red: 31, green: 32, yellow: 33, cyan: 36 } as const;

export type Style = keyof typeof SGR;

export type Paint = (style: Style, text: string) => string;

/** Returns a function that wraps text in an ANSI style, or returns it unchanged when `enabled` is false. */
export function painter(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text;
  return (style, text) => `\u001b[${SGR[style]}m${text}\u001b[0m`;
}
