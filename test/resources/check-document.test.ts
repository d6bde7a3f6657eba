import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkResourceDocument,
  checkResourceDocumentWithAgents,
} from "../../src/resources/check-document.js";

const NODES = ["node1", "node2"];
const lines = (
  problems: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>,
) => problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n");

test("a cycle of order constraints is refused, naming the constraints", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { a: { agent: "vip" }, b: { agent: "vip" }, c: { agent: "vip" } },
      constraints: [
        { order: { id: "ab", first: "a", then: "b" } },
        { order: { id: "bc", first: "b", then: "c" } },
        { order: { id: "ca", first: "c", then: "a" } },
      ],
    },
    NODES,
  );
  assert.match(lines(problems), /^constraints: order constraints .*form a cycle/m);
});

test("a resource banned from every node is refused as impossible to place", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { db: { agent: "vip" } },
      constraints: [
        { location: { resource: "db", node: "node1", score: "-INFINITY" } },
        { location: { resource: "db", node: "node2", score: "-INFINITY" } },
      ],
    },
    NODES,
  );
  assert.match(lines(problems), /^resources\.db: db cannot run on any node/m);
});

test("unknown agents and missing required parameters are refused (Debian's resource-agents)", async () => {
  const problems = await checkResourceDocumentWithAgents(
    {
      resources: {
        vip1: { agent: "ocf:heartbeat:IPaddr2" },
        ghost: { agent: "ocf:heartbeat:NoSuchAgent" },
        dummy: { agent: "ocf:heartbeat:Dummy" },
      },
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(text, /^resources\.vip1\.params: .*\bip\b/m);
  assert.match(text, /^resources\.ghost\.agent: .*NoSuchAgent/m);
  assert.doesNotMatch(text, /resources\.dummy/);
});
