import assert from "node:assert/strict";
import { test } from "node:test";
import { fencingSchema } from "../../src/config/safety-schema.js";
import { fenceAgentInput, hostArgumentOf } from "../../src/fencing/agent-input.js";
import type { AgentMetadata } from "../../src/resources/agents/metadata.js";

const pdu = fencingSchema.parse({
  devices: {
    pdu: {
      agent: "fence_apc",
      params: { ip: "10.0.0.5", username: "apc", password: "s3cr=t x", ssh: "1" },
      targets: { db1: "7", db2: "" },
    },
  },
}).devices.pdu!;

test("agent input: params as given, in order, then action, nodename and the plug", () => {
  assert.equal(
    fenceAgentInput(pdu, "reboot", "db1"),
    "ip=10.0.0.5\nusername=apc\npassword=s3cr=t x\nssh=1\naction=reboot\nnodename=db1\nplug=7\n",
  );
  // An empty plug (a device that fences one machine) is left out; the node's name is not.
  assert.equal(
    fenceAgentInput(pdu, "off", "db2"),
    "ip=10.0.0.5\nusername=apc\npassword=s3cr=t x\nssh=1\naction=off\nnodename=db2\n",
  );
});

test("agent input: the plug under the agent's host argument, or not at all", () => {
  assert.equal(
    fenceAgentInput(pdu, "off", "db1", { hostArgument: "port" }).split("\n").at(-2),
    "port=7",
  );
  // fence_kdump and fence_dummy know no plug: they get the node's name alone.
  assert.deepEqual(
    fenceAgentInput(pdu, "off", "db1", { hostArgument: null }).trimEnd().split("\n").slice(-2),
    ["action=off", "nodename=db1"],
  );
});

test("agent input: a check of the device itself names no node and no plug", () => {
  assert.equal(
    fenceAgentInput(pdu, "monitor", null),
    "ip=10.0.0.5\nusername=apc\npassword=s3cr=t x\nssh=1\naction=monitor\n",
  );
});

test("agent input: what Vigil sends comes after a parameter of the same name", () => {
  const device = {
    agent: "fence_x",
    params: { action: "on", plug: "9", nodename: "x" },
    targets: { db1: "2" },
  };
  const lines = fenceAgentInput(device, "off", "db1").trimEnd().split("\n");
  assert.deepEqual(lines, [
    "action=on",
    "plug=9",
    "nodename=x",
    "action=off",
    "nodename=db1",
    "plug=2",
  ]);
});

test("agent input: a line break in a value is refused, naming the device and parameter", () => {
  const device = {
    agent: "fence_ipmilan",
    params: { ip: "10.0.0.9", password: "pw\naction=on" },
    targets: { db1: "" },
  };
  assert.throws(
    () => fenceAgentInput(device, "reboot", "db1", { deviceName: "ipmi-db1" }),
    (error: Error) => /ipmi-db1/.test(error.message) && /"password"/.test(error.message),
  );
  // Without a name, the agent names the device.
  assert.throws(() => fenceAgentInput(device, "reboot", "db1"), /fence_ipmilan.*"password"/);
  const carriageReturn = { agent: "fence_x", params: { ip: "a\rb" }, targets: { db1: "" } };
  assert.throws(
    () => fenceAgentInput(carriageReturn, "off", "db1", { deviceName: "d" }),
    /d: parameter "ip"/,
  );
  const plug = { agent: "fence_x", params: {}, targets: { db1: "1\n2" } };
  assert.throws(
    () => fenceAgentInput(plug, "off", "db1", { deviceName: "pdu" }),
    /pdu: parameter "plug"/,
  );
});

test("agent input: a device without a target for the node is refused", () => {
  const device = { agent: "fence_x", params: { ip: "h" }, targets: { db1: "1" } };
  assert.throws(
    () => fenceAgentInput(device, "reboot", "db2", { deviceName: "pdu" }),
    /fence device pdu has no target for db2 \(targets: db1\)/,
  );
  assert.throws(() => fenceAgentInput(device, "off", "constructor"), /no target/);
});

function metadataWith(parameters: string[]): AgentMetadata {
  return {
    name: "fence_x",
    parameters: parameters.map((name) => ({
      name,
      required: false,
      unique: false,
      type: "string",
    })),
    actions: [],
    describesParameters: true,
  };
}

test("host argument: plug if the agent knows it, else port, else none; plug without meta-data", () => {
  assert.equal(hostArgumentOf(metadataWith(["ip", "plug", "port"])), "plug");
  assert.equal(hostArgumentOf(metadataWith(["ip", "port"])), "port");
  assert.equal(hostArgumentOf(metadataWith(["nodename", "ipport"])), null);
  assert.equal(hostArgumentOf(null), "plug");
});
