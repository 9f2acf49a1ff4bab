/**
 * Unknown option names, said with the known name each one most likely meant: the constructor's options
 * (options.ts) and every method's (call-options.ts) refuse a name they do not know, since a typo would otherwise
 * keep the default without a word (`sendBatch(records, { result: 'failures' })` resolved with every result, and
 * code reading `.failures` of it threw; `close({ timeout: 10 })`, KafkaJS's spelling, waited without a deadline).
 */

/**
 * Edits (insertions, deletions, substitutions) within which a name is taken for a typo of a known one: none for a
 * name of up to 3 letters (but its case), one up to 5, two beyond. Two for every name took any two-letter name for
 * `ca` and `psk` for `pfx`, and refused them as typos of TLS options, though Node may add such an option.
 */
function typoEdits(name: string): number {
  if (name.length <= 3) return 0;
  return name.length <= 5 ? 1 : 2;
}

/**
 * The known name `name` most likely meant: the same letters in another case, else the one fewest edits away, within
 * typoEdits (case aside); undefined when none is that near.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let nearest: string | undefined;
  let fewest = typoEdits(name) + 1;
  for (const candidate of known) {
    const edits = editDistance(lower, candidate.toLowerCase(), fewest);
    if (edits < fewest) {
      nearest = candidate;
      fewest = edits;
    }
  }
  return nearest;
}

/** Each unknown name quoted, with the name it most likely meant: `"lingerMS" (did you mean "lingerMs"?)`. */
export function describeUnknown(unknown: readonly string[], known: readonly string[]): string {
  return unknown.map((name) => {
    const near = nearestName(name, known);
    return near === undefined ? `"${name}"` : `"${name}" (did you mean "${near}"?)`;
  }).join(', ');
}

/**
 * Edits between `a` and `b`, a swap of two neighbouring letters counting as one (`topci` for `topic`, the commonest
 * slip of the fingers, was two edits and too far for a 5-letter name), or `limit` once it is known to be `limit` or
 * more (names are short).
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, beforePrevious[j - 2]! + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= limit) return limit;
    beforePrevious = previous;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}
