import assert from "node:assert/strict";
import { test } from "node:test";
import { resourceDocumentSchema } from "../../src/resource-model/model-schema.js";
import {
  DEFAULT_META,
  parseAgentRef,
  parseResourceModel,
} from "../../src/resource-model/parse-model.js";
import { INFINITY_SCORE } from "../../src/resource-model/types.js";

const NODES = ["node1", "node2", "node3"];
const parse = (document: unknown) =>
  parseResourceModel(resourceDocumentSchema.parse(document), NODES);
const messages = (document: unknown) =>
  parse(document).problems.map((p) => `${p.path.join(".")}: ${p.message}`);

test("agent references: vip, exec, ocf, lsb, systemd; anything else is named", () => {
  assert.deepEqual(parseAgentRef("vip"), { kind: "vip", name: "vip" });
  assert.deepEqual(parseAgentRef("exec:/usr/local/bin/web"), {
    kind: "exec",
    name: "/usr/local/bin/web",
  });
  assert.deepEqual(parseAgentRef("ocf:heartbeat:IPaddr2"), {
    kind: "ocf",
    name: "heartbeat/IPaddr2",
  });
  assert.deepEqual(parseAgentRef("systemd:nginx.service"), {
    kind: "systemd",
    name: "nginx.service",
  });
  assert.match(JSON.stringify(parseAgentRef("exec:relative")), /absolute path/);
  assert.match(JSON.stringify(parseAgentRef("ocf:IPaddr2")), /ocf:PROVIDER:TYPE/);
  assert.match(
    (parseAgentRef("heartbeat") as { error: string }).error,
    /unknown agent "heartbeat"/,
  );
});

test("a group of a VIP and a service, with a location preference: defaults filled in", () => {
  const { model, problems } = parse({
    resources: {
      "web-ip": { agent: "vip", params: { address: "198.18.0.100/24" } },
      web: { agent: "exec:/usr/local/bin/web", meta: { stickiness: 100 } },
    },
    groups: { "web-stack": ["web-ip", "web"] },
    constraints: [{ location: { resource: "web-stack", node: "node1", score: "INFINITY" } }],
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(model.groups["web-stack"]?.members, ["web-ip", "web"]);
  assert.equal(model.primitives.web?.meta.stickiness, 100);
  assert.deepEqual(model.primitives["web-ip"]?.meta, DEFAULT_META);
  assert.equal(model.primitives["web-ip"]?.operations.monitor?.intervalMs, 10_000);
  assert.deepEqual(model.constraints[0], {
    kind: "location",
    id: "location-0",
    resource: "web-stack",
    node: "node1",
    score: INFINITY_SCORE,
  });
});

test("every broken reference is reported with the key to change", () => {
  const found = messages({
    resources: { a: { agent: "vip" }, b: { agent: "bogus" } },
    groups: { g1: ["a", "missing"], g2: ["a"] },
    clones: { c: { of: "a" } },
    constraints: [
      { location: { resource: "nowhere", node: "node9", score: 10 } },
      { order: { first: "a", then: "a" } },
      { colocation: { resource: "a", with: "ghost" } },
    ],
  });
  const expected = [
    /^resources\.b\.agent: unknown agent "bogus"/,
    /^groups\.g1\.1: no resource named missing/,
    /^groups\.g2\.0: a is already in group g1/,
    /^clones\.c\.of: a is in group g1: clone the group instead/,
    /^constraints\.0\.location\.resource: no resource, virtual service, group or clone named nowhere/,
    /^constraints\.0\.location\.node: no node named node9/,
    /^constraints\.1\.order: a resource cannot be ordered after itself/,
    /^constraints\.2\.colocation\.with: no resource, virtual service, group or clone named ghost/,
  ];
  for (const pattern of expected)
    assert.ok(
      found.some((line) => pattern.test(line)),
      `expected ${pattern} in:\n${found.join("\n")}`,
    );
});

test("a promotable clone: copies default to one per node", () => {
  const { model, problems } = parse({
    resources: { redis: { agent: "ocf:heartbeat:redis" } },
    clones: { db: { of: "redis", promotable: true } },
  });
  assert.deepEqual(problems, []);
  assert.equal(model.clones.db?.max, 3);
  assert.equal(model.clones.db?.promotedMax, 1);
});
