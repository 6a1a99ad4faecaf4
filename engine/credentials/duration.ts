const UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Parses a duration such as `90d`, `12h` or `2w` into milliseconds; null when invalid. */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * UNITS[match[2]];
}
