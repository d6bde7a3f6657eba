// `vigil config validate`'s fence device checks, against Debian's real fence agents (their
// meta-data and validate-all): each problem located at its key, with file, line and column.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfigFile } from "../../src/config/load.js";
import { checkFenceDevices } from "../../src/fencing/check-devices.js";
import { FenceRunner } from "../../src/fencing/fence-runner.js";
import { systemClock } from "../../src/time/clock.js";
import { configErrorOf, issueAt, VALID_YAML } from "../config/helpers.js";

const FENCE_TEST = fileURLToPath(new URL("../fixtures/fence/fence_test", import.meta.url));

/**
 * Loads VALID_YAML (nodes alpha, beta, gamma) plus `fencing`, with the agent checks. Fragments
 * whose devices leave a node out have `enabled: false` (manual fencing only), which the file's
 * own validation requires.
 */
async function validate(t: { after(fn: () => void): void }, fencing: string) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-check-devices-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "vigil.yaml");
  writeFileSync(file, `${VALID_YAML}${fencing}`);
  return loadConfigFile(file, (config) =>
    checkFenceDevices(new FenceRunner({ fencing: config.fencing, clock: systemClock })),
  ).then(
    () => null,
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      return error;
    },
  );
}

async function refused(t: { after(fn: () => void): void }, fencing: string): Promise<ConfigError> {
  const error = await validate(t, fencing);
  assert.ok(error !== null, "expected the fence devices to be refused");
  return error;
}

const LINES_BEFORE = VALID_YAML.split("\n").length - 1;

test("a misspelt agent is refused, naming the device and the agent it resembles", async (t) => {
  const error = await refused(
    t,
    `fencing:
  enabled: false
  devices:
    ipmi-beta: { agent: fence_ipmilna, params: { ip: 127.0.0.1 }, targets: { beta: "" } }
`,
  );
  const issue = issueAt(error, "fencing.devices.ipmi-beta.agent");
  assert.equal(
    issue.message,
    "fence device ipmi-beta: fence agent fence_ipmilna not found (or not executable) in /usr/sbin, /sbin, /usr/bin (did you mean fence_ipmilan?)",
  );
  assert.equal(issue.line, LINES_BEFORE + 4);
  assert.match(error.message, /vigil\.yaml:\d+:\d+: fencing\.devices\.ipmi-beta\.agent: /);
});

test("fence_ipmilan given the BMC address as its plug and no ip: refused by the agent itself", async (t) => {
  // docs/configuration.md's two-node example did this: fence_ipmilan then cannot fence anything.
  const error = await refused(
    t,
    `fencing:
  enabled: false
  devices:
    ipmi: { agent: fence_ipmilan, params: { username: admin, password: secret, lanplus: "1" }, targets: { alpha: "198.18.9.1", beta: "198.18.9.2" } }
`,
  );
  assert.equal(
    issueAt(error, "fencing.devices.ipmi").message,
    "fence_ipmilan refuses the parameters it would be given to fence alpha, beta (validate-all): exit code 1: Failed: You have to enter fence address; validate-all failed",
  );
});

test("fence_ipmilan with its address and login is accepted", async (t) => {
  const fencing = `fencing:
  devices:
    ipmi-alpha: { agent: fence_ipmilan, params: { ip: 198.18.9.1, username: admin, password: secret, lanplus: "1" }, targets: { alpha: "" } }
    ipmi-beta: { agent: fence_ipmilan, params: { ip: 198.18.9.2, username: admin, password: secret, lanplus: "1" }, targets: { beta: "" } }
    ipmi-gamma: { agent: fence_ipmilan, params: { ip: 198.18.9.3, username: admin, password: secret, lanplus: "1" }, targets: { gamma: "" } }
`;
  assert.equal(await validate(t, fencing), null);
});

test("unknown and missing parameters, by the agent's meta-data", async (t) => {
  const error = await refused(
    t,
    `fencing:
  devices:
    ipmi: { agent: fence_ipmilan, params: { ip: 198.18.9.1, usernam: admin }, targets: { alpha: "" } }
    pdu: { agent: fence_apc, params: { username: apc, password: apc }, targets: { beta: "1", gamma: "" } }
`,
  );
  assert.equal(
    issueAt(error, "fencing.devices.ipmi.params.usernam").message,
    "fence_ipmilan has no parameter usernam (did you mean username?)",
  );
  assert.match(
    issueAt(error, "fencing.devices.pdu.params").message,
    /^fence_apc requires the parameter ip \(IP address or hostname of fencing device\)$/,
  );
  assert.match(
    issueAt(error, "fencing.devices.pdu.targets.gamma").message,
    /^fence_apc needs a plug for gamma .*: targets\.gamma is empty$/,
  );
});

test("fence_kdump: reboot is refused (it can only power off), action: off accepted", async (t) => {
  const error = await refused(
    t,
    `fencing:
  devices:
    kdump: { agent: fence_kdump, targets: { alpha: "", beta: "", gamma: "" } }
`,
  );
  assert.equal(
    issueAt(error, "fencing.devices.kdump").message,
    "fence_kdump supports monitor, off, validate-all, but this device would be asked reboot: set action: off on this device",
  );
  const withOff = `fencing:
  devices:
    kdump: { agent: fence_kdump, targets: { alpha: "", beta: "", gamma: "" }, action: off }
`;
  assert.equal(await validate(t, withOff), null);
});

test("fence_kdump in a level of several devices under a reboot: its off is enough, its on never asked", async (t) => {
  const fencing = `fencing:
  enabled: false
  devices:
    kdump: { agent: fence_kdump, targets: { alpha: "" }, action: off }
    dummy: { agent: fence_dummy, targets: { alpha: "" } }
  levels:
    alpha: [[kdump, dummy]]
`;
  assert.equal(await validate(t, fencing), null);
});

test("a plug for an agent that takes none is refused", async (t) => {
  const error = await refused(
    t,
    `fencing:
  enabled: false
  devices:
    kdump: { agent: fence_kdump, targets: { alpha: "eth0" }, action: off }
`,
  );
  assert.equal(
    issueAt(error, "fencing.devices.kdump.targets.alpha").message,
    'fence_kdump takes no plug (it is told which node by its name): set targets.alpha to ""',
  );
});

test("an agent of one's own without meta-data is accepted as it is; a missing one is not", async (t) => {
  const own = `fencing:
  enabled: false
  devices:
    lab: { agent: "exec:${FENCE_TEST}", params: { anything: "1" }, targets: { alpha: "a" } }
`;
  assert.equal(await validate(t, own), null);
  const error = await refused(
    t,
    `fencing:
  enabled: false
  devices:
    lab: { agent: "exec:/nonexistent/fence_x", targets: { alpha: "" } }
`,
  );
  assert.equal(
    issueAt(error, "fencing.devices.lab.agent").message,
    "fence device lab: fence agent /nonexistent/fence_x does not exist or is not an executable file",
  );
});

test("parameters Vigil sends itself are refused in params, saying where they come from", () => {
  const error = configErrorOf(`${VALID_YAML}fencing:
  enabled: false
  devices:
    kdump: { agent: fence_kdump, params: { action: "off", nodename: alpha, port: "3" }, targets: { alpha: "" } }
`);
  assert.match(
    issueAt(error, "fencing.devices.kdump.params.action").message,
    /action is not a parameter to set: .*action: off for fence_kdump/,
  );
  assert.match(
    issueAt(error, "fencing.devices.kdump.params.nodename").message,
    /Vigil sends the name of the node being fenced/,
  );
  assert.match(issueAt(error, "fencing.devices.kdump.params.port").message, /targets/);
});

test("a device's action and the monitor interval are checked with the file, saying what fits", () => {
  const error = configErrorOf(`${VALID_YAML}fencing:
  enabled: false
  monitor_interval_ms: 500
  devices:
    kdump: { agent: fence_kdump, targets: { alpha: "" }, action: on }
`);
  assert.match(
    issueAt(error, "fencing.monitor_interval_ms").message,
    /0 \(only at start\) or 1000 to 86400000 milliseconds/,
  );
  assert.match(issueAt(error, "fencing.devices.kdump.action").message, /"reboot"|reboot/);
});
