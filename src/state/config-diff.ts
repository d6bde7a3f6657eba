/**
 * A small line diff for showing what a configuration change does. The longest common
 * subsequence is computed only for the lines between the common prefix and suffix, which is
 * where an edit is; past MAX_LCS_CELLS that middle is reported as wholly replaced, so the cost
 * stays bounded on any input.
 */

const MAX_LCS_CELLS = 4_000_000;

export interface LineChange {
  kind: "added" | "removed";
  /** 1-based line number: in the old text for removals, in the new text for additions. */
  line: number;
  text: string;
}

export function diffLines(oldText: string, newText: string): LineChange[] {
  const oldLines = splitLines(oldText);
  const newLines = splitLines(newText);
  let prefix = 0;
  while (
    prefix < oldLines.length &&
    prefix < newLines.length &&
    oldLines[prefix] === newLines[prefix]
  ) {
    prefix++;
  }
  let suffix = 0;
  while (
    suffix < oldLines.length - prefix &&
    suffix < newLines.length - prefix &&
    oldLines[oldLines.length - 1 - suffix] === newLines[newLines.length - 1 - suffix]
  ) {
    suffix++;
  }
  const oldMiddle = oldLines.slice(prefix, oldLines.length - suffix);
  const newMiddle = newLines.slice(prefix, newLines.length - suffix);
  return middleChanges(oldMiddle, newMiddle, prefix);
}

/** One line per change, "- 12: text" (old line 12 removed) or "+ 12: text" (new line 12). */
export function diffConfigs(oldText: string, newText: string): string[] {
  return diffLines(oldText, newText).map(
    (change) => `${change.kind === "added" ? "+" : "-"} ${change.line}: ${change.text}`,
  );
}

/** "+3 -1 lines" (added, removed), or "no change". */
export function describeDiffSize(changes: readonly LineChange[]): string {
  const added = changes.filter((change) => change.kind === "added").length;
  const removed = changes.length - added;
  if (changes.length === 0) return "no change";
  return `+${added} -${removed} lines`;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r?\n/);
  // A final newline ends the last line rather than starting an empty one.
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function middleChanges(oldLines: string[], newLines: string[], offset: number): LineChange[] {
  const removedAll = (): LineChange[] =>
    oldLines.map((text, i) => ({ kind: "removed", line: offset + i + 1, text }));
  const addedAll = (): LineChange[] =>
    newLines.map((text, i) => ({ kind: "added", line: offset + i + 1, text }));
  if (
    oldLines.length === 0 ||
    newLines.length === 0 ||
    oldLines.length * newLines.length > MAX_LCS_CELLS
  ) {
    return [...removedAll(), ...addedAll()];
  }

  // lengths[i][j]: LCS length of oldLines[i..] and newLines[j..], flattened row-major.
  const width = newLines.length + 1;
  const lengths = new Uint32Array((oldLines.length + 1) * width);
  for (let i = oldLines.length - 1; i >= 0; i--) {
    for (let j = newLines.length - 1; j >= 0; j--) {
      lengths[i * width + j] =
        oldLines[i] === newLines[j]
          ? lengths[(i + 1) * width + j + 1]! + 1
          : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
    }
  }

  const changes: LineChange[] = [];
  let i = 0;
  let j = 0;
  while (i < oldLines.length || j < newLines.length) {
    if (i < oldLines.length && j < newLines.length && oldLines[i] === newLines[j]) {
      i++;
      j++;
    } else if (
      i < oldLines.length &&
      (j === newLines.length || lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!)
    ) {
      changes.push({ kind: "removed", line: offset + i + 1, text: oldLines[i]! });
      i++;
    } else {
      changes.push({ kind: "added", line: offset + j + 1, text: newLines[j]! });
      j++;
    }
  }
  return changes;
}
