/**
 * "Did you mean …": the closest candidates to a mistyped word, by edit distance (case
 * ignored), for unknown commands, kinds and settings keys.
 */

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The candidates within `max` edits of `word` (default: a third of its length, at least 1),
 * closest first; a candidate that starts with the word counts as close.
 */
export function closest(
  word: string,
  candidates: Iterable<string>,
  max = Math.max(1, Math.floor(word.length / 3)),
): string[] {
  const w = word.toLowerCase();
  const scored: [number, string][] = [];
  for (const c of candidates) {
    const l = c.toLowerCase();
    const d = l.startsWith(w) && w.length >= 2 ? 0.5 : editDistance(w, l);
    if (d <= max) scored.push([d, c]);
  }
  return scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1)).map(([, c]) => c);
}
