/**
 * Pacemaker's monitors per role: a promotable clone's copies may be monitored one way while
 * promoted and another while unpromoted (LocalResources runs the one of the copy's role).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { recurringMonitor } from "../../src/resource-model/parse-operations.js";

const NODES = ["db1", "db2", "db3"];
const DB = "exec:/bin/true";
const promotable = { "db-ha": { of: "db", promotable: true } };

function check(db: Record<string, unknown>, clones: Record<string, unknown> = promotable) {
  const { model, problems } = checkResourceDocument(
    { resources: { db: { agent: DB, ...db } }, clones },
    NODES,
  );
  return {
    db: model?.primitives.db,
    text: problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"),
  };
}

test("one monitor per role: each runs in its role, the probe may take the longer timeout", () => {
  const { db, text } = check({
    operations: {
      monitor: [
        { role: "promoted", interval_ms: 9_000, timeout_ms: 4_000 },
        { role: "unpromoted", interval_ms: 11_000, timeout_ms: 6_000 },
      ],
    },
  });
  assert.equal(text, "");
  assert.ok(db !== undefined);
  assert.deepEqual(recurringMonitor(db, "promoted"), { timeoutMs: 4_000, intervalMs: 9_000 });
  assert.deepEqual(recurringMonitor(db, "unpromoted"), { timeoutMs: 6_000, intervalMs: 11_000 });
  assert.deepEqual(db.operations.monitor, { timeoutMs: 6_000, intervalMs: 0 });
});

test("a monitor with one role leaves the other role unmonitored, as in Pacemaker", () => {
  const { db, text } = check({
    operations: { monitor: { role: "promoted", interval_ms: 5_000, timeout_ms: 3_000 } },
  });
  assert.equal(text, "");
  assert.ok(db !== undefined);
  assert.deepEqual(recurringMonitor(db, "promoted"), { timeoutMs: 3_000, intervalMs: 5_000 });
  assert.equal(recurringMonitor(db, "unpromoted"), undefined);
  assert.deepEqual(db.operations.monitor, { timeoutMs: 3_000, intervalMs: 0 });
});

test("without roles the one monitor runs in every role", () => {
  const { db } = check({ operations: { monitor: { interval_ms: 5_000, timeout_ms: 3_000 } } });
  assert.ok(db !== undefined);
  for (const role of ["started", "promoted", "unpromoted"] as const)
    assert.deepEqual(recurringMonitor(db, role), { timeoutMs: 3_000, intervalMs: 5_000 });
});

test("a role where it means nothing is refused, naming where", () => {
  assert.match(
    check({ operations: { start: { role: "promoted" } } }).text,
    /^resources\.db\.operations\.start\.role: role picks which monitor runs .*start has none$/m,
  );
  assert.match(
    check({ operations: { monitor: { role: "promoted", interval_ms: 5_000 } } }, {}).text,
    /^resources\.db\.operations\.monitor: a monitor for role promoted runs only on the copies of a promotable clone, and no promotable clone wraps db/m,
  );
  const list = (monitor: unknown[]) => check({ operations: { monitor } }).text;
  assert.match(
    list([{ interval_ms: 5_000 }]),
    /^resources\.db\.operations\.monitor\.0: in a list of monitors each names its role/m,
  );
  assert.match(
    list([{ role: "promoted" }, { role: "promoted" }]),
    /^resources\.db\.operations\.monitor\.1\.role: a second monitor for role promoted/m,
  );
  assert.match(
    list([{ role: "promoted" }, { role: "unpromoted" }, { role: "promoted" }]),
    /^resources\.db\.operations\.monitor\.2: at most two monitors: one per role/m,
  );
});
