import assert from "node:assert/strict";
import { test } from "node:test";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { checkResourceDocumentWithAgents } from "../../src/resources/check-agents.js";

const NODES = ["node1", "node2"];
const VIP = { agent: "vip", params: { address: "198.18.0.1/24" } };
const lines = (
  problems: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>,
) => problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n");

test("a cycle of order constraints is refused, naming the constraints", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { a: VIP, b: VIP, c: VIP },
      constraints: [
        { order: { id: "ab", first: "a", then: "b" } },
        { order: { id: "bc", first: "b", then: "c" } },
        { order: { id: "ca", first: "c", then: "a" } },
      ],
    },
    NODES,
  );
  const text = lines(problems);
  for (const index of [0, 1, 2]) {
    assert.match(
      text,
      new RegExp(`^constraints\\.${index}\\.order: order constraints ab, bc, ca form a cycle`, "m"),
    );
  }
});

test("a resource banned from every node is refused as impossible to place", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { db: VIP },
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

test("every operation timeout and interval is positive and at most a day", () => {
  const { problems } = checkResourceDocument(
    {
      resources: {
        a: { ...VIP, operations: { monitor: { interval_ms: 0, timeout_ms: 0 } } },
        b: { ...VIP, operations: { start: { timeout_ms: -5 }, stop: { timeout_ms: 86_400_001 } } },
        c: { ...VIP, operations: { monitor: { interval_ms: 1.5 } } },
      },
    },
    NODES,
  );
  const text = lines(problems);
  for (const path of [
    "resources.a.operations.monitor.interval_ms",
    "resources.a.operations.monitor.timeout_ms",
    "resources.b.operations.start.timeout_ms",
    "resources.b.operations.stop.timeout_ms",
    "resources.c.operations.monitor.interval_ms",
  ]) {
    assert.match(text, new RegExp(`^${path.replaceAll(".", "\\.")}: expected`, "m"));
  }
});

test("a vip address is parsed for its family and needs a prefix", () => {
  const vip = (address: string) => ({ agent: "vip", params: { address } });
  const { problems } = checkResourceDocument(
    {
      resources: {
        bare: vip("10.0.0.1"),
        banana: vip("banana/99"),
        wide: vip("2001:db8::1/129"),
        v4wide: vip("10.0.0.1/33"),
        v6: vip("2001:db8::1/64"),
        v4: vip("198.18.0.1/15"),
      },
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(text, /^resources\.bare\.params\.address: address "10\.0\.0\.1" has no prefix/m);
  assert.match(text, /^resources\.banana\.params\.address: .*not an IPv4 or IPv6 address/m);
  assert.match(text, /^resources\.wide\.params\.address: .*prefix must be 1\.\.128/m);
  assert.match(text, /^resources\.v4wide\.params\.address: .*prefix must be 1\.\.32/m);
  assert.doesNotMatch(text, /resources\.v4?6?\./);
});

test("clones the policy engine cannot place are refused before they are committed", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { a: VIP, b: VIP },
      groups: { g: ["b"] },
      clones: {
        c1: { of: "a" },
        c2: { of: "a" },
        pg: { of: "g", promotable: true },
      },
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(text, /^clones\.c2\.of: a is already cloned by c1/m);
  assert.match(text, /^clones\.pg\.of: a promotable clone wraps a resource, not group g/m);
});

test("ids every object already has are refused", () => {
  const { problems } = checkResourceDocument(
    { resources: { constructor: VIP, toString: VIP } },
    NODES,
  );
  assert.match(lines(problems), /^resources\.constructor: /m);
  assert.match(lines(problems), /^resources\.toString: /m);
});

test("a hook or check name that is refused says why, not only that the key is invalid", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { web: VIP },
      hooks: { constructor: { run: "/bin/true" } },
      checks: { "bad name": { tcp: "127.0.0.1:80" } },
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(text, /^hooks\.constructor: this name is reserved: choose another$/m);
  assert.match(text, /^checks\.bad name: expected a check name such as .*letters, digits/m);
  assert.doesNotMatch(text, /Invalid key/);
});

test("a check's pattern that needs backtracking (backreference, lookaround) is refused; others pass", () => {
  const tcp = (expect: string) => ({
    tcp: { host: "127.0.0.1", port: 6379, expect },
    attribute: "redis-up",
  });
  const { problems } = checkResourceDocument(
    {
      resources: { web: VIP },
      checks: { backref: tcp("(a)\\1"), ahead: tcp("PONG(?=\\r)"), plain: tcp("^\\+PONG|(a+)+b") },
    },
    NODES,
  );
  assert.deepEqual(
    problems.map((p) => p.path.join(".")),
    ["checks.backref.tcp.expect", "checks.ahead.tcp.expect"],
  );
  assert.match(lines(problems), /without backreferences or lookaround/);
});

test("a location rule that compares without a value, or tests presence with one, is refused", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { db: VIP },
      constraints: [
        {
          location: {
            id: "fast",
            resource: "db",
            rules: [{ attribute: "cpu", op: "gt" }],
            score: 5,
          },
        },
        {
          location: {
            id: "ssd",
            resource: "db",
            rules: [{ attribute: "disk", op: "defined", value: "ssd" }],
            score: 5,
          },
        },
      ],
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(
    text,
    /^constraints\.0\.location\.rules\.0\.value: op "gt" compares attribute "cpu" with a value: give one$/m,
  );
  assert.match(
    text,
    /^constraints\.1\.location\.rules\.0\.value: op "defined" only asks whether attribute "disk" is set: it takes no value$/m,
  );
});

test("a misspelt section is refused with the section it resembles; a committed one is still used", () => {
  const document = { resorces: { db: VIP }, constraint: [], resources: { web: VIP } };
  const { model, problems } = checkResourceDocument(document, NODES);
  assert.equal(model, null);
  const text = lines(problems);
  assert.match(text, /^resorces: unknown section 'resorces'; did you mean 'resources'\?/m);
  assert.match(text, /^constraint: unknown section 'constraint'; did you mean 'constraints'\?/m);
  // Committed before this rule (or by another client): the resources it has still run.
  const used = checkResourceDocument(document, NODES, { purpose: "use" });
  assert.deepEqual(used.problems, []);
  assert.deepEqual(Object.keys(used.model?.primitives ?? {}), ["web"]);
});

test("a promotable clone of an agent that cannot promote (vip, lsb, systemd) is refused, naming its agent", () => {
  const { problems } = checkResourceDocument(
    {
      resources: {
        ip: VIP,
        web: { agent: "systemd:nginx" },
        init: { agent: "lsb:cron" },
        db: { agent: "exec:/bin/true" },
        dummy: { agent: "ocf:heartbeat:Stateful" },
        ip2: VIP,
      },
      clones: {
        "ip-ha": { of: "ip", promotable: true },
        "web-ha": { of: "web", promotable: true },
        "init-ha": { of: "init", promotable: true },
        "db-ha": { of: "db", promotable: true },
        "dummy-ha": { of: "dummy", promotable: true },
        "ip-everywhere": { of: "ip2" },
      },
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(
    text,
    /^clones\.ip-ha\.promotable: ip cannot be promoted: its agent \(resources\.ip\.agent: vip\) has no promote or demote/m,
  );
  assert.match(text, /^clones\.web-ha\.promotable: .*resources\.web\.agent: systemd:nginx/m);
  assert.match(text, /^clones\.init-ha\.promotable: .*resources\.init\.agent: lsb:cron/m);
  assert.doesNotMatch(text, /db-ha|dummy-ha|ip-everywhere/);
});

test("-INFINITY where an attribute is not_defined (Pacemaker's ping idiom) is accepted; bans by node still count", () => {
  const pingIdiom = [
    {
      location: {
        resource: "web",
        rules: [{ attribute: "connectivity", op: "not_defined" }],
        score: "-INFINITY",
      },
    },
    {
      location: {
        resource: "web",
        rules: [{ attribute: "connectivity", op: "lt", value: 1 }],
        score: "-INFINITY",
      },
    },
  ];
  const accepted = checkResourceDocument(
    { resources: { web: VIP }, constraints: pingIdiom },
    NODES,
  );
  assert.deepEqual(accepted.problems, []);
  assert.equal(accepted.model?.constraints.length, 2);

  const banned = checkResourceDocument(
    {
      resources: { web: VIP },
      constraints: [
        ...pingIdiom,
        { location: { resource: "web", node: "node1", score: "-INFINITY" } },
        { location: { resource: "web", node: "node2", score: "-INFINITY" } },
      ],
    },
    NODES,
  );
  assert.match(lines(banned.problems), /^resources\.web: web cannot run on any node/m);
});

test("a value fitting none of a union's shapes is named by the shape it was meant to have", () => {
  const { problems } = checkResourceDocument(
    {
      resources: { db: { ...VIP, operations: { monitor: { interval_ms: 1.5 } } } },
      constraints: [{ location: { resource: "db", node: "node1" } }, { banana: {} }],
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(text, /^resources\.db\.operations\.monitor\.interval_ms: expected a whole number/m);
  assert.match(text, /^constraints\.0\.location\.score: expected a score/m);
  assert.match(text, /^constraints\.1: expected one constraint: location, colocation or order$/m);
  assert.doesNotMatch(text, /Invalid input/);
});

test("on_fail: fence is refused where it is written when the cluster cannot fence", () => {
  const document = {
    resources: { db: { ...VIP, meta: { on_fail: "fence" } }, web: VIP },
    clones: { "web-ha": { of: "web", meta: { on_fail: "fence" } } },
  };
  const refused = checkResourceDocument(document, NODES, { fencing: false });
  const text = lines(refused.problems);
  assert.match(
    text,
    /^resources\.db\.meta\.on_fail: on_fail: fence fences the node .*fencing is not enabled/m,
  );
  assert.match(text, /^clones\.web-ha\.meta\.on_fail: on_fail: fence fences the node/m);
  assert.deepEqual(checkResourceDocument(document, NODES, { fencing: true }).problems, []);
  // Not known (vigil config apply): the agent, which knows, decides.
  assert.deepEqual(checkResourceDocument(document, NODES).problems, []);
  // A committed document goes on running (its failures recover as with restart).
  assert.deepEqual(
    checkResourceDocument(document, NODES, { purpose: "use", fencing: false }).problems,
    [],
  );
});

test("params_on: each node's parameters are checked where they are written; an unknown node is refused", async () => {
  const problems = await checkResourceDocumentWithAgents(
    {
      resources: {
        // The required ip given per node, for every node: nothing is missing anywhere.
        ip: {
          agent: "ocf:heartbeat:IPaddr2",
          params_on: { node1: { ip: "198.18.0.7" }, node2: { ip: "198.18.0.8" } },
        },
        // Given for node1 only: node2 would run it without.
        half: { agent: "ocf:heartbeat:IPaddr2", params_on: { node1: { ip: "198.18.0.9" } } },
        typo: { agent: "ocf:heartbeat:Dummy", params_on: { node2: { stat: "/run/x" } } },
      },
    },
    NODES,
  );
  const text = lines(problems);
  assert.doesNotMatch(text, /^resources\.ip/m);
  assert.match(text, /^resources\.half\.params: missing required parameter "ip"/m);
  assert.match(text, /^resources\.typo\.params_on\.node2: unknown parameter "stat"/m);

  // An unknown name in the shared params is named there, though every node has its own too; OCF's
  // tracing (trace_ra, trace_file: ocf-shellfuncs reads them for every agent) is no unknown name.
  const shared = await checkResourceDocumentWithAgents(
    {
      resources: {
        both: {
          agent: "ocf:heartbeat:Dummy",
          params: { colour: "red", trace_ra: "1", trace_file: "/tmp/dummy.trace" },
          params_on: { node1: { state: "/run/e.state" }, node2: { state: "/run/f.state" } },
        },
      },
    },
    NODES,
  );
  assert.deepEqual(
    shared.map((problem) => `${problem.path.join(".")}: ${problem.message.split(" (")[0]}`),
    ['resources.both.params: unknown parameter "colour"'],
  );

  // Names and addresses are the document's own checks, before any agent is asked.
  const { problems: shape } = checkResourceDocument(
    {
      resources: {
        lost: { agent: "ocf:heartbeat:Dummy", params_on: { node9: { state: "/run/y" } } },
        vip: {
          agent: "vip",
          params: { address: "198.18.0.10/24" },
          params_on: { node2: { address: "198.18.0.300/24" } },
        },
      },
    },
    NODES,
  );
  assert.match(
    lines(shape),
    /^resources\.lost\.params_on\.node9: no node named node9 \(nodes: node1, node2\)/m,
  );
  assert.match(lines(shape), /^resources\.vip\.params_on\.node2\.address: .*198\.18\.0\.300/m);
});

test("a parameter the agent marks unique may not have one value in two resources on one node", async () => {
  const problems = await checkResourceDocumentWithAgents(
    {
      resources: {
        a: { agent: "ocf:heartbeat:Dummy", params: { state: "/run/shared.state" } },
        b: { agent: "ocf:heartbeat:Dummy", params: { state: "/run/shared.state" } },
        // The same value on different nodes only: never on one host.
        c: {
          agent: "ocf:heartbeat:Dummy",
          params_on: { node1: { state: "/run/c.state" }, node2: { state: "/run/d.state" } },
        },
        d: {
          agent: "ocf:heartbeat:Dummy",
          params_on: { node1: { state: "/run/d.state" }, node2: { state: "/run/c.state" } },
        },
        // Left to the agent's default: its shell makes it per resource.
        e: { agent: "ocf:heartbeat:Dummy" },
        f: { agent: "ocf:heartbeat:Dummy" },
        vip1: VIP,
        vip2: VIP,
      },
      clones: { copies: { of: "c" } },
    },
    NODES,
  );
  const text = lines(problems);
  assert.match(
    text,
    /^resources\.b\.params: state=\/run\/shared\.state is a's too, on node node1: agent Dummy needs it unique per host/m,
  );
  assert.match(text, /^resources\.vip2\.params: address=198\.18\.0\.1\/24 is vip1's too/m);
  assert.equal(problems.length, 2, text);
});
