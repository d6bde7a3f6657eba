import assert from "node:assert/strict";
import { test } from "node:test";
import { type FencingConfig, fencingSchema } from "../../src/config/safety-schema.js";
import { fenceLevelsFor, levelSteps } from "../../src/fencing/levels.js";

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

test("a level of one device: the fence action, or the device's own", () => {
  const config = fencing({
    devices: {
      ipmi: { agent: "fence_ipmilan", targets: { db1: "" } },
      kdump: { agent: "fence_kdump", targets: { db1: "" }, action: "off" },
    },
  });
  assert.deepEqual(levelSteps(config, ["ipmi"], "reboot"), {
    fence: [{ device: "ipmi", action: "reboot" }],
    powerOn: [],
  });
  assert.deepEqual(levelSteps(config, ["kdump"], "reboot"), {
    fence: [{ device: "kdump", action: "off" }],
    powerOn: [],
  });
});

test("a reboot on a level of several devices: off on each, then on for those asked to reboot", () => {
  const config = fencing({
    devices: {
      psu1: { agent: "fence_apc", targets: { db1: "1" } },
      psu2: { agent: "fence_apc", targets: { db1: "2" } },
      kdump: { agent: "fence_kdump", targets: { db1: "" }, action: "off" },
    },
  });
  assert.deepEqual(levelSteps(config, ["kdump", "psu1", "psu2"], "reboot"), {
    fence: [
      { device: "kdump", action: "off" },
      { device: "psu1", action: "off" },
      { device: "psu2", action: "off" },
    ],
    powerOn: [
      { device: "psu1", action: "on" },
      { device: "psu2", action: "on" },
    ],
  });
  // Nothing asked to reboot: nothing is split, nothing powered on.
  assert.deepEqual(levelSteps(config, ["psu1", "psu2"], "off"), {
    fence: [
      { device: "psu1", action: "off" },
      { device: "psu2", action: "off" },
    ],
    powerOn: [],
  });
  // A device the configuration lacks is asked the fence action (and its run fails, naming it).
  assert.deepEqual(levelSteps(config, ["ghost"], "reboot").fence, [
    { device: "ghost", action: "reboot" },
  ]);
});
