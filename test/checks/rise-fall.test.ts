import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { RiseFall } from "../../src/checks/rise-fall.js";

describe("rise and fall", () => {
  test("a verdict only after rise successes or fall failures in a row", () => {
    const counter = new RiseFall(2, 3);
    assert.deepEqual(
      [true, false, true].map((ok) => counter.record(ok)),
      [null, null, null],
    );
    assert.equal(counter.current(), "unknown");
    assert.equal(counter.record(true), "passing");
    assert.deepEqual(
      [false, false].map((ok) => counter.record(ok)),
      [null, null],
    );
    assert.equal(counter.record(false), "failing");
    assert.equal(counter.record(false), null, "said once");
    assert.equal(counter.record(true), null);
    assert.equal(counter.record(true), "passing");
    counter.reset();
    assert.equal(counter.current(), "unknown");
  });

  test("property: every change is earned by exactly rise (fall) tries in a row, so flapping changes nothing", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.boolean(), { maxLength: 200 }),
        (rise, fall, tries) => {
          const counter = new RiseFall(rise, fall);
          let run = 0;
          let last: boolean | null = null;
          for (const ok of tries) {
            run = ok === last ? run + 1 : 1;
            last = ok;
            const before = counter.current();
            const changed = counter.record(ok);
            const due = ok
              ? run >= rise && before !== "passing"
              : run >= fall && before !== "failing";
            assert.equal(changed, due ? (ok ? "passing" : "failing") : null);
          }
          // A flapping check (never min(rise, fall) alike in a row, when both exceed 1) has no verdict.
          if (rise > 1 && fall > 1) {
            const flapping = new RiseFall(rise, fall);
            for (let i = 0; i < 50; i++) assert.equal(flapping.record(i % 2 === 0), null);
          }
        },
      ),
    );
  });
});
