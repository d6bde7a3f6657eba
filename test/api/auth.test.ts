import assert from "node:assert/strict";
import { timingSafeEqual } from "node:crypto";
import { test } from "node:test";
import { roleNeeded, TokenTable } from "../../src/api/auth.js";

const READ = "r".repeat(40);
const OPERATE = "o".repeat(40);
const table = new TokenTable([
  { role: "read", name: "grafana", token: READ },
  { role: "operate", name: "alice", token: OPERATE },
]);

test("GET reads; every other method operates", () => {
  assert.equal(roleNeeded("GET"), "read");
  assert.equal(roleNeeded("POST"), "operate");
  assert.equal(roleNeeded("DELETE"), "operate");
  assert.equal(roleNeeded(undefined), "operate");
});

test("a read token reads, and is refused an operate route with 403 and its name", () => {
  assert.deepEqual(table.admit(`Bearer ${READ}`, "GET"), {
    ok: true,
    name: "grafana",
    role: "read",
  });
  const refused = table.admit(`Bearer ${READ}`, "POST");
  assert.equal(refused.ok, false);
  assert.deepEqual(
    {
      status: !refused.ok && refused.status,
      error: !refused.ok && refused.error,
      name: refused.name,
    },
    {
      status: 403,
      error: "token grafana has the role read; POST needs an operate token",
      name: "grafana",
    },
  );
});

test("an operate token may do everything; the scheme is case-insensitive", () => {
  assert.equal(table.admit(`Bearer ${OPERATE}`, "POST").ok, true);
  assert.equal(table.admit(`bearer ${OPERATE}`, "GET").ok, true);
});

test("no token, another scheme and an unknown token are 401 with a reason and a challenge", () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, "no bearer token: send the header Authorization: Bearer TOKEN"],
    ["", "no bearer token: send the header Authorization: Bearer TOKEN"],
    [
      `Basic ${READ}`,
      "the Authorization header is not a bearer token (Authorization: Bearer TOKEN)",
    ],
    [`Bearer ${READ}x`, "unknown token"],
    [`Bearer ${READ.slice(1)}`, "unknown token"],
  ];
  for (const [header, error] of cases) {
    const admission = table.admit(header, "GET");
    assert.equal(admission.ok, false, String(header));
    if (admission.ok) continue;
    assert.equal(admission.status, 401);
    assert.equal(admission.error, error);
    assert.match(admission.headers?.["www-authenticate"] ?? "", /^Bearer realm="vigil"/);
  }
});

test("tokens are compared as equal-length digests with timingSafeEqual, against every entry", () => {
  const calls: Array<[number, number]> = [];
  const spied = new TokenTable(
    [
      { role: "read", name: "a", token: READ },
      { role: "operate", name: "b", token: OPERATE },
    ],
    (a, b) => {
      calls.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    },
  );
  for (const presented of [READ, OPERATE, "short", `${READ}${READ}`]) {
    calls.length = 0;
    spied.holder(presented);
    // Found first, last or not at all: every entry is compared, each as two 32-byte digests.
    assert.deepEqual(calls, [
      [32, 32],
      [32, 32],
    ]);
  }
  assert.equal(spied.holder(OPERATE)?.name, "b");
});
