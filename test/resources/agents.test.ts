import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import type { AgentRef, OperationName } from "../../src/resource-model/types.js";
import { AgentCatalog } from "../../src/resources/agents/catalog.js";
import { checkParameters } from "../../src/resources/agents/metadata.js";
import { isHardFailure } from "../../src/resources/agents/ocf-codes.js";
import { Executor } from "../../src/resources/executor/executor.js";
import type { OperationRequest } from "../../src/resources/executor/operation.js";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";
import { steppingClock, TempDir } from "./support.js";

const DUMMY: AgentRef = { kind: "ocf", name: "heartbeat/Dummy" };
const IPADDR2: AgentRef = { kind: "ocf", name: "heartbeat/IPaddr2" };

function request(
  operation: OperationName,
  agent: AgentRef,
  params: Record<string, string> = {},
): OperationRequest {
  return { operation, agent, params, timeoutMs: 20_000 };
}

test("exec agent: parameters arrive as VIGIL_PARAM_ and OCF_RESKEY_ variables", async () => {
  const dir = new TempDir();
  try {
    const env = dir.file("env");
    const agent = dir.script(
      "show-env.sh",
      `echo "$1 $VIGIL_PARAM_LISTEN_PORT $OCF_RESKEY_listen_port $VIGIL_RESOURCE_ID $OCF_RESOURCE_INSTANCE" > ${env}`,
    );
    const executor = new Executor({ clock: steppingClock() });
    const result = await executor.run(
      "web",
      request("start", { kind: "exec", name: agent }, { listen_port: "8080" }),
    );
    assert.equal(result.outcome, "success");
    assert.equal(dir.read("env"), "start 8080 8080 web web\n");
  } finally {
    dir.remove();
  }
});

test("exec agent: exit codes map to OCF outcomes and severities", async () => {
  const dir = new TempDir();
  try {
    // Exits with the code named by the action's parameter; the reason goes to stderr.
    const agent = dir.script(
      "codes.sh",
      `echo "ocf-exit-reason:chose $VIGIL_PARAM_CODE" >&2; exit $VIGIL_PARAM_CODE`,
    );
    const ref: AgentRef = { kind: "exec", name: agent };
    const executor = new Executor({ clock: steppingClock() });
    const run = (operation: OperationName, code: number) =>
      executor.run("r", request(operation, ref, { code: String(code) }));

    const monitorOutcomes = [];
    for (const code of [0, 7, 8, 9, 1]) monitorOutcomes.push((await run("monitor", code)).outcome);
    assert.deepEqual(monitorOutcomes, [
      "running",
      "not_running",
      "running_promoted",
      "failed",
      "failed",
    ]);

    const generic = await run("start", 1);
    assert.deepEqual([generic.outcome, generic.exitCode, generic.severity], ["failed", 1, "soft"]);
    assert.equal(generic.reason, "chose 1");
    const notInstalled = await run("start", 5);
    assert.deepEqual([notInstalled.exitCode, notInstalled.severity], [5, "hard"]);
    const notConfigured = await run("start", 6);
    assert.deepEqual([notConfigured.exitCode, notConfigured.severity], [6, "fatal"]);
    assert.deepEqual(
      [2, 3, 4, 5, 6].map((code) => isHardFailure(code as 2)),
      [true, true, true, true, true],
    );
    assert.deepEqual(
      [1, 7, 9].map((code) => isHardFailure(code as 1)),
      [false, false, false],
    );

    const unknown = await run("start", 42);
    assert.deepEqual([unknown.outcome, unknown.exitCode], ["failed", 1]);
    assert.match(unknown.reason ?? "", /exited with 42, not an OCF code/);

    // Stop of something already stopped must succeed even if the script says "not running".
    assert.equal((await run("stop", 7)).outcome, "success");
  } finally {
    dir.remove();
  }
});

test("exec agent: a missing script is OCF_ERR_INSTALLED naming the path", async () => {
  const executor = new Executor({ clock: steppingClock() });
  const result = await executor.run(
    "r",
    request("start", { kind: "exec", name: "/nonexistent/vigil-agent" }),
  );
  assert.deepEqual([result.outcome, result.exitCode, result.severity], ["failed", 5, "hard"]);
  assert.equal(result.reason, "/nonexistent/vigil-agent does not exist");
});

test("OCF Dummy: start, monitor, stop with its state file in a temp dir", async () => {
  const dir = new TempDir();
  try {
    const params = { state: dir.file("dummy.state") };
    const executor = new Executor({ clock: steppingClock() });
    const run = (operation: OperationName) =>
      executor.run("dummy1", request(operation, DUMMY, params));

    assert.equal((await run("monitor")).outcome, "not_running");
    assert.equal((await run("start")).outcome, "success");
    assert.equal(existsSync(params.state), true);
    assert.equal((await run("monitor")).outcome, "running");
    assert.equal((await run("stop")).outcome, "success");
    assert.equal(existsSync(params.state), false);
    assert.equal((await run("monitor")).outcome, "not_running");
    assert.equal((await run("stop")).outcome, "success");
    const promote = await run("promote");
    assert.deepEqual([promote.outcome, promote.exitCode], ["failed", 3]);
  } finally {
    dir.remove();
  }
});

test("OCF meta-data: Dummy's parameters and actions, through the executor", async () => {
  const executor = new Executor({ clock: steppingClock() });
  const result = await executor.run("dummy1", request("meta-data", DUMMY));
  assert.equal(result.outcome, "success");
  const metadata = result.metadata!;
  assert.equal(metadata.name, "Dummy");
  assert.deepEqual(
    metadata.parameters.map(({ name, required, unique, type }) => ({
      name,
      required,
      unique,
      type,
    })),
    [
      { name: "state", required: false, unique: true, type: "string" },
      { name: "fake", required: false, unique: false, type: "string" },
    ],
  );
  assert.equal(metadata.parameters[1]?.default, "dummy");
  const monitor = metadata.actions.find((action) => action.name === "monitor");
  assert.deepEqual(monitor, { name: "monitor", timeoutMs: 20_000, intervalMs: 10_000, depth: 0 });
  assert.equal(metadata.actions.find((action) => action.name === "meta-data")?.timeoutMs, 5_000);
});

test("catalog: IPaddr2 requires ip; unknown agents name the path looked for", async () => {
  const catalog = new AgentCatalog({ runner: new ChildProcessRunner() });
  const ipaddr2 = await catalog.describe(IPADDR2);
  assert.ok(!("error" in ipaddr2), JSON.stringify(ipaddr2));
  const ip = ipaddr2.parameters.find((parameter) => parameter.name === "ip");
  assert.deepEqual([ip?.required, ip?.unique], [true, true]);
  assert.equal(ipaddr2.parameters.find((parameter) => parameter.name === "nic")?.required, false);
  assert.deepEqual(checkParameters(ipaddr2, { nic: "eth0" }), [
    'missing required parameter "ip" (agent IPaddr2)',
  ]);
  assert.deepEqual(checkParameters(ipaddr2, { ip: "198.18.0.1", colour: "red" }).length, 1);
  assert.match(
    checkParameters(ipaddr2, { ip: "198.18.0.1", colour: "red" })[0] ?? "",
    /unknown parameter "colour"/,
  );

  assert.deepEqual(await catalog.describe({ kind: "ocf", name: "heartbeat/NoSuchAgent" }), {
    error:
      "agent ocf:heartbeat:NoSuchAgent not found: /usr/lib/ocf/resource.d/heartbeat/NoSuchAgent does not exist",
  });
  assert.deepEqual(await catalog.describe({ kind: "ocf", name: "../../../bin/sh" }), {
    error: "agent ocf:..:../../bin/sh: expected ocf:provider:type",
  });
  assert.deepEqual(await catalog.describe({ kind: "exec", name: "/nonexistent/x" }), {
    error: "agent exec:/nonexistent/x not found: /nonexistent/x does not exist",
  });
  const vip = await catalog.describe({ kind: "vip", name: "vip" });
  assert.ok(!("error" in vip));
  assert.deepEqual(checkParameters(vip, {}), ['missing required parameter "address" (agent vip)']);
});

test("catalog: an exec script without meta-data is accepted with undescribed parameters", async () => {
  const dir = new TempDir();
  try {
    const agent = dir.script("plain.sh", "exit 3");
    const catalog = new AgentCatalog({ runner: new ChildProcessRunner() });
    const described = await catalog.describe({ kind: "exec", name: agent });
    assert.deepEqual(described, {
      name: "plain.sh",
      parameters: [],
      actions: [],
      describesParameters: false,
    });
    assert.deepEqual(checkParameters(described as never, { anything: "x" }), []);
  } finally {
    dir.remove();
  }
});

test("catalog: an exec script's declared required parameters are checked", async () => {
  const dir = new TempDir();
  try {
    const agent = dir.script(
      "declared.sh",
      [
        'if [ "$1" = meta-data ]; then cat <<EOF',
        '<resource-agent name="declared"><parameters>',
        '<parameter name="port" required="1"><content type="integer"/></parameter>',
        "</parameters><actions/></resource-agent>",
        "EOF",
        "exit 0; fi",
        "exit 3",
      ].join("\n"),
    );
    const catalog = new AgentCatalog({ runner: new ChildProcessRunner() });
    const described = await catalog.describe({ kind: "exec", name: agent });
    assert.ok(!("error" in described), JSON.stringify(described));
    assert.deepEqual(checkParameters(described, {}), [
      'missing required parameter "port" (agent declared)',
    ]);
    assert.deepEqual(checkParameters(described, { port: "80" }), []);
  } finally {
    dir.remove();
  }
});

test("lsb agent: start, status codes, stop", async () => {
  const dir = new TempDir();
  try {
    const state = dir.file("running");
    dir.script(
      "svc",
      [
        "case $1 in",
        `  start) touch ${state} ;;`,
        `  stop) rm -f ${state} ;;`,
        `  status) [ -e ${dir.file("crashed")} ] && exit 1; [ -e ${state} ] && exit 0; exit 3 ;;`,
        "  *) exit 2 ;;",
        "esac",
      ].join("\n"),
    );
    const executor = new Executor({ clock: steppingClock(), agentPaths: { initDir: dir.path } });
    const ref: AgentRef = { kind: "lsb", name: "svc" };
    const run = (operation: OperationName) => executor.run("svc", request(operation, ref));
    assert.equal((await run("monitor")).outcome, "not_running");
    assert.equal((await run("start")).outcome, "success");
    assert.equal((await run("monitor")).outcome, "running");
    dir.script("crashed", "");
    const crashed = await run("monitor");
    assert.equal(crashed.outcome, "failed");
    assert.match(
      crashed.reason ?? "",
      /status exited with 1: program is dead and its pid file exists/,
    );
    assert.equal((await run("stop")).outcome, "success");

    const missing = await executor.run("other", request("start", { kind: "lsb", name: "absent" }));
    assert.deepEqual([missing.exitCode, missing.reason], [5, `${dir.path}/absent does not exist`]);
  } finally {
    dir.remove();
  }
});

test("systemd agent: without systemd every operation is NOT_INSTALLED with a clear reason", async () => {
  const executor = new Executor({
    clock: steppingClock(),
    agentPaths: { systemdRuntimeDir: "/nonexistent/run/systemd/system" },
  });
  const ref: AgentRef = { kind: "systemd", name: "nginx" };
  for (const operation of ["start", "monitor", "stop"] as const) {
    const result = await executor.run("web", request(operation, ref));
    assert.deepEqual(
      [result.outcome, result.exitCode, result.severity, result.reason],
      ["failed", 5, "hard", "systemd is not running on this host"],
    );
  }
  const catalog = new AgentCatalog({
    runner: new ChildProcessRunner(),
    systemdRuntimeDir: "/nonexistent/run/systemd/system",
  });
  assert.deepEqual(await catalog.describe(ref), {
    error: "agent systemd:nginx: systemd is not running on this host",
  });
});
