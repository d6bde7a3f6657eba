import assert from "node:assert/strict";
import { test } from "node:test";
import { type FencingConfig, fencingSchema } from "../../src/config/safety-schema.js";
import { fenceAgentInput, fenceLevelsFor } from "../../src/fencing/levels.js";

function fencing(input: unknown): FencingConfig {
  return fencingSchema.parse(input);
}

const devices = {
  "pdu-b": { agent: "fence_apc", targets: { db1: "3", db2: "4" } },
  ipmi1: { agent: "fence_ipmilan", targets: { db1: "" } },
  "pdu-a": { agent: "fence_apc", targets: { db1: "1", db2: "2" } },
  ipmi2: { agent: "fence_ipmilan", targets: { db2: "" } },
};

test("configured levels are the node's levels, in order", () => {
  const config = fencing({
    devices,
    levels: { db1: [["ipmi1"], ["pdu-a", "pdu-b"]] },
  });
  assert.deepEqual(fenceLevelsFor(config, "db1"), [["ipmi1"], ["pdu-a", "pdu-b"]]);
  // A copy: the caller cannot change the configuration through it.
  fenceLevelsFor(config, "db1")[0]!.push("x");
  assert.deepEqual(config.levels.db1, [["ipmi1"], ["pdu-a", "pdu-b"]]);
});

test("without configured levels, each device that targets the node is a level, by name", () => {
  const config = fencing({ devices, levels: { db1: [["ipmi1"]] } });
  assert.deepEqual(fenceLevelsFor(config, "db2"), [["ipmi2"], ["pdu-a"], ["pdu-b"]]);
  assert.deepEqual(fenceLevelsFor(fencing({ devices }), "db1"), [["ipmi1"], ["pdu-a"], ["pdu-b"]]);
});

test("a node that nothing can fence has no levels", () => {
  assert.deepEqual(fenceLevelsFor(fencing({ devices }), "web1"), []);
  assert.deepEqual(fenceLevelsFor(fencing({}), "db1"), []);
  // Names of Object.prototype's properties are node names like any other.
  assert.deepEqual(fenceLevelsFor(fencing({ devices }), "constructor"), []);
  assert.deepEqual(fenceLevelsFor(fencing({ devices }), "toString"), []);
});

test("agent input: params as given, in order, then action, then the plug", () => {
  const device = fencing({
    devices: {
      pdu: {
        agent: "fence_apc",
        params: { ip: "10.0.0.5", username: "apc", password: "s3cr=t x", ssh: "1" },
        targets: { db1: "7", db2: "" },
      },
    },
  }).devices.pdu!;
  assert.equal(
    fenceAgentInput(device, "db1", "reboot"),
    "ip=10.0.0.5\nusername=apc\npassword=s3cr=t x\nssh=1\naction=reboot\nplug=7\n",
  );
  // An empty plug (a device that fences one node) is left out.
  assert.equal(
    fenceAgentInput(device, "db2", "off"),
    "ip=10.0.0.5\nusername=apc\npassword=s3cr=t x\nssh=1\naction=off\n",
  );
  assert.equal(
    fenceAgentInput({ agent: "exec:/x", params: {}, targets: { db1: "" } }, "db1", "status"),
    "action=status\n",
  );
});

test("agent input: the action and plug come after a parameter of the same name", () => {
  const device = { agent: "fence_x", params: { action: "on", plug: "9" }, targets: { db1: "2" } };
  const lines = fenceAgentInput(device, "db1", "off").trimEnd().split("\n");
  assert.deepEqual(lines, ["action=on", "plug=9", "action=off", "plug=2"]);
});

test("agent input: a line break in a value is refused, naming the device and parameter", () => {
  const device = {
    agent: "fence_ipmilan",
    params: { ip: "10.0.0.9", password: "pw\naction=on" },
    targets: { db1: "" },
  };
  assert.throws(
    () => fenceAgentInput(device, "db1", "reboot", "ipmi-db1"),
    (error: Error) => /ipmi-db1/.test(error.message) && /"password"/.test(error.message),
  );
  // Without a name, the agent names the device.
  assert.throws(() => fenceAgentInput(device, "db1", "reboot"), /fence_ipmilan.*"password"/);
  const carriageReturn = { agent: "fence_x", params: { ip: "a\rb" }, targets: { db1: "" } };
  assert.throws(() => fenceAgentInput(carriageReturn, "db1", "off", "d"), /d: parameter "ip"/);
  const plug = { agent: "fence_x", params: {}, targets: { db1: "1\n2" } };
  assert.throws(() => fenceAgentInput(plug, "db1", "off", "pdu"), /pdu: parameter "plug"/);
});

test("agent input: a device without a target for the node is refused, except for monitor", () => {
  const device = { agent: "fence_x", params: { ip: "h" }, targets: { db1: "1" } };
  assert.throws(
    () => fenceAgentInput(device, "db2", "reboot", "pdu"),
    /fence device pdu has no target for db2 \(targets: db1\)/,
  );
  assert.throws(() => fenceAgentInput(device, "constructor", "off", "pdu"), /no target/);
  assert.equal(fenceAgentInput(device, "db2", "monitor"), "ip=h\naction=monitor\n");
});
