import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { copyAsJson } from "../../src/state/json.js";

/** What the text gives: the reference copyAsJson must match, or decline. */
function viaText(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** Equal, with the same keys in the same order at every level (deepStrictEqual ignores order). */
function assertSameJson(actual: unknown, expected: unknown): void {
  assert.deepStrictEqual(actual, expected);
  assert.equal(JSON.stringify(actual), JSON.stringify(expected));
}

describe("copyAsJson", () => {
  test("gives what JSON text gives, for any JSON-like value", () => {
    const anything = fc.anything({
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withBoxedValues: false,
      withMap: false,
      withSet: false,
      withBigInt: false,
      withDate: false,
      withTypedArray: false,
    });
    fc.assert(
      fc.property(anything, (value) => {
        const copy = copyAsJson(value);
        if (copy === undefined) return;
        assertSameJson(copy, viaText(value));
      }),
      { numRuns: 2000 },
    );
  });

  test("follows JSON where it changes values: -0, non-finite numbers, undefined, holes", () => {
    const value = {
      zero: -0,
      nan: Number.NaN,
      inf: [Number.POSITIVE_INFINITY],
      gone: undefined,
      fn: () => 1,
      list: [undefined, () => 1, 2],
      // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
      sparse: [1, , 3],
      "2": "integer keys come first, in JSON as here",
    };
    assertSameJson(copyAsJson(value), viaText(value));
    assert.ok(Object.is((copyAsJson({ zero: -0 }) as { zero: number }).zero, 0));
  });

  test("declines what JSON reads through toJSON, class instances, bigints and __proto__ keys", () => {
    assert.equal(copyAsJson({ at: new Date(0) }), undefined);
    assert.equal(copyAsJson({ toJSON: () => "x" }), undefined);
    assert.equal(copyAsJson([new (class Point {})()]), undefined);
    assert.equal(copyAsJson({ big: 1n }), undefined);
    assert.equal(copyAsJson(JSON.parse('{"__proto__": {"polluted": true}}')), undefined);
    assert.equal(copyAsJson(undefined), undefined);
  });

  test("the copy shares no object with the original", () => {
    const original = { message: { entries: [{ body: { payload: "p" } }] } };
    const copy = copyAsJson(original) as typeof original;
    assert.notEqual(copy.message, original.message);
    assert.notEqual(copy.message.entries, original.message.entries);
    assert.notEqual(copy.message.entries[0], original.message.entries[0]);
  });
});
