import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { describeDiffSize, diffConfigs, diffLines } from "../../src/state/index.js";

describe("configuration diff", () => {
  test("identical texts have no changes", () => {
    assert.deepEqual(diffConfigs("a: 1\nb: 2\n", "a: 1\nb: 2\n"), []);
    assert.equal(describeDiffSize(diffLines("a\n", "a")), "no change");
  });

  test("a changed line shows as removed then added, with line numbers", () => {
    const before = "resources:\n  - name: web\n    stickiness: 100\nconstraints: []\n";
    const after = "resources:\n  - name: web\n    stickiness: 200\nconstraints: []\n";
    assert.deepEqual(diffConfigs(before, after), [
      "- 3:     stickiness: 100",
      "+ 3:     stickiness: 200",
    ]);
  });

  test("insertions and deletions in the middle keep the unchanged lines out", () => {
    assert.deepEqual(diffConfigs("a\nb\nc\nd\n", "a\nc\nx\nd\ne\n"), [
      "- 2: b",
      "+ 3: x",
      "+ 5: e",
    ]);
    assert.equal(describeDiffSize(diffLines("a\nb\nc\nd\n", "a\nc\nx\nd\ne\n")), "+2 -1 lines");
  });

  test("from nothing, everything is added; CRLF and LF lines compare equal", () => {
    assert.deepEqual(diffConfigs("", "a\nb"), ["+ 1: a", "+ 2: b"]);
    assert.deepEqual(diffConfigs("a\r\nb\r\n", "a\nb\n"), []);
  });

  test("past the size bound the differing middle is reported as replaced, quickly", () => {
    const before = ["same", ...Array.from({ length: 3000 }, (_, i) => `old ${i}`), "end"].join(
      "\n",
    );
    const after = ["same", ...Array.from({ length: 3000 }, (_, i) => `new ${i}`), "end"].join("\n");
    const changes = diffLines(before, after);
    assert.equal(changes.length, 6000);
    assert.deepEqual(changes[0], { kind: "removed", line: 2, text: "old 0" });
    assert.deepEqual(changes[3000], { kind: "added", line: 2, text: "new 0" });
  });

  test("applying the changes to the old lines gives the new lines, and the diff is minimal", () => {
    const text = fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 12 });
    fc.assert(
      fc.property(text, text, (oldLines, newLines) => {
        const changes = diffLines(oldLines.join("\n"), newLines.join("\n"));
        const removed = new Set(changes.filter((c) => c.kind === "removed").map((c) => c.line));
        const kept = oldLines.filter((_, i) => !removed.has(i + 1));
        const added = changes.filter((c) => c.kind === "added");
        const rebuilt: string[] = [];
        let keptIndex = 0;
        for (let line = 1; line <= newLines.length; line++) {
          const addition = added.find((c) => c.line === line);
          rebuilt.push(addition ? addition.text : kept[keptIndex++]!);
        }
        assert.deepEqual(rebuilt, newLines);
        assert.equal(keptIndex, kept.length);
        assert.equal(kept.length, longestCommonSubsequence(oldLines, newLines));
      }),
      { numRuns: 500 },
    );
  });
});

function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  const rows = a.map(() => new Array<number>(b.length + 1).fill(0));
  rows.push(new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      rows[i]![j] =
        a[i] === b[j] ? rows[i + 1]![j + 1]! + 1 : Math.max(rows[i + 1]![j]!, rows[i]![j + 1]!);
    }
  }
  return rows[0]![0]!;
}
