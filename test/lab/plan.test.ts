// The lab's pure parts: names, addresses and nft rendering, checked without root.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderLinkFaults, ruleFor } from "./faults.js";
import {
  belongsToLab,
  hostAddress,
  hostMac,
  labIdFromRandom,
  neighbourBatch,
  planLab,
  switchPortName,
} from "./names.js";

const IFNAMSIZ_MAX_CHARS = 15;

test("lab ids are vg + 5 hex chars", () => {
  assert.equal(labIdFromRandom(Uint8Array.from([0xab, 0xcd, 0xef])), "vgabcde");
  assert.throws(() => labIdFromRandom(new Uint8Array(2)), /at least 3 random bytes/);
});

test("planLab names every namespace after the lab id and validates counts", () => {
  const plan = planLab("vg12345", { hosts: 2, links: 2, clients: 1 });
  assert.deepEqual(
    plan.hosts.map((host) => [host.index, host.kind, host.ns, host.links]),
    [
      [0, "node", "vg12345-h0", [0, 1]],
      [1, "node", "vg12345-h1", [0, 1]],
      [2, "client", "vg12345-c0", [0]],
    ],
  );
  assert.equal(plan.switchNs, "vg12345-sw");
  assert.ok(
    [plan.switchNs, ...plan.hosts.map((host) => host.ns)].every((ns) =>
      belongsToLab("vg12345", ns),
    ),
  );
  assert.equal(belongsToLab("vg12345", "vg123456-h0"), false);
  assert.throws(
    () => planLab("vg12345", { hosts: 0 }),
    /hosts must be an integer in 1\.\.100, got 0/,
  );
  assert.throws(
    () => planLab("vg12345", { hosts: 2, links: 3 }),
    /links must be an integer in 1\.\.2/,
  );
  assert.throws(() => planLab("bad", { hosts: 1 }), /lab id "bad"/);
});

test("addresses stay in 198.18.0.0/15 and port names fit IFNAMSIZ at the largest lab", () => {
  const plan = planLab("vgfffff", { hosts: 100, links: 2, clients: 100 });
  for (const host of plan.hosts) {
    for (const link of host.links) {
      assert.match(hostAddress(host, link), /^198\.1[89]\.\d{1,3}\.\d{1,3}$/);
      assert.ok(switchPortName(plan.id, host, link).length <= IFNAMSIZ_MAX_CHARS);
    }
  }
  const [h0, h99] = [plan.hosts[0]!, plan.hosts[99]!];
  assert.equal(hostAddress(h99, 1), "198.18.1.100");
  assert.equal(hostAddress(plan.hosts[100]!, 0), "198.18.0.101");
  assert.equal(hostMac(h0, 1), "02:00:c6:12:01:01");
  assert.throws(() => hostAddress(plan.hosts[100]!, 1), /has no link 1/);
});

test("each host gets a permanent neighbour entry for every peer on its links", () => {
  const plan = planLab("vg12345", { hosts: 2, links: 2, clients: 1 });
  assert.equal(
    neighbourBatch(plan, plan.hosts[2]!),
    [
      "neigh replace 198.18.0.1 lladdr 02:00:c6:12:00:01 dev eth0 nud permanent",
      "neigh replace 198.18.0.2 lladdr 02:00:c6:12:00:02 dev eth0 nud permanent",
      "",
    ].join("\n"),
  );
  assert.equal(neighbourBatch(plan, plan.hosts[0]!).split("\n").length - 1, 3);
});

test("loss rules: 0 % is no rule, 100 % a plain drop, fractions in basis points", () => {
  const loss = (percent: number) => ({ cut: null, loss: { percent, direction: "both" as const } });
  assert.equal(ruleFor(loss(0), "in"), null);
  assert.equal(ruleFor(loss(100), "in"), "drop");
  assert.equal(ruleFor(loss(0.5), "out"), "numgen random mod 10000 < 50 drop");
  assert.equal(ruleFor({ cut: "in", loss: null }, "out"), null);
  assert.equal(ruleFor({ cut: "in", loss: loss(30).loss }, "in"), "drop");
});

test("an outbound cut hooks host egress, or the switch port's ingress as the fallback", () => {
  const plan = planLab("vg12345", { hosts: 2 });
  const host = plan.hosts[1]!;
  const state = { cut: "out" as const, loss: null };
  const [onHost] = renderLinkFaults(plan, host, 0, state, "host-egress");
  assert.equal(onHost?.ns, "vg12345-h1");
  assert.match(onHost?.script ?? "", /type filter hook egress device "eth0" priority -500/);
  assert.doesNotMatch(onHost?.script ?? "", /hook ingress/);

  const [hostSide, switchSide] = renderLinkFaults(plan, host, 0, state, "switch-ingress");
  assert.equal(
    hostSide?.script,
    "table netdev vigil_lab_eth0\ndelete table netdev vigil_lab_eth0\n",
  );
  assert.equal(switchSide?.ns, "vg12345-sw");
  assert.match(
    switchSide?.script ?? "",
    /hook ingress device "vg12345-h1l0" priority -500;[^\n]*\n\s+drop/,
  );
});
