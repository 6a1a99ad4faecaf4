import { distance } from 'fastest-levenshtein';

/**
 * Returns the candidate closest to a misspelt word, or undefined when none is close enough to be
 * a likely typo. Case differences alone count as a match (`Postgres` → `postgres`).
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const list = [...candidates];

  // An abbreviation (`pci` for `pci-dss`) is a better hint than a short word at a smaller distance.
  const extensions = list.filter((candidate) => lower.length >= 3 && candidate.toLowerCase().startsWith(lower));
  if (extensions.length === 1) return extensions[0];

  let best: string | undefined;
  let bestDistance = Infinity;

  for (const candidate of list) {
    const candidateDistance = distance(lower, candidate.toLowerCase());
    if (candidateDistance < bestDistance) {
      best = candidate;
      bestDistance = candidateDistance;
    }
  }

  // Allow about one edit per three characters, and at least two, so `conection_limit` finds
  // `connection_limit` but `foo` does not turn into `db`.
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit && bestDistance < word.length ? best : undefined;
}

/** Formats a fix that proposes the closest candidate, or lists every candidate. */
export function suggestionFix(word: string, candidates: readonly string[], listName: string): string {
  const closest = closestMatch(word, candidates);
  if (closest !== undefined) return `did you mean "${closest}"?`;
  return `valid ${listName}: ${candidates.join(', ')}`;
}
