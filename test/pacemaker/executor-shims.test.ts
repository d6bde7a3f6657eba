import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { PACEMAKER_SHIMS_DIR } from "../../src/pacemaker/shim-environment.js";
import { OCF_ERR_UNIMPLEMENTED } from "../../src/resources/agents/ocf-codes.js";
import { Executor } from "../../src/resources/executor/executor.js";
import { steppingClock, TempDir } from "../resources/support.js";

// The shims run the compiled command module (dist/cli/pacemaker-shim.js): `npm run build` first.

test("an operation finds Vigil's Pacemaker commands first on PATH and in HA_SBIN_DIR", async () => {
  const dir = new TempDir();
  try {
    const seen = dir.file("seen");
    const agent = dir.script(
      "agent.sh",
      `echo "$(command -v crm_master) $HA_SBIN_DIR $(crm_node -n) $SHELL" > ${seen}`,
    );
    const executor = new Executor({
      clock: steppingClock(),
      nodeName: "db1",
      controlSocket: dir.file("control.sock"),
    });
    const result = await executor.run("r", {
      operation: "start",
      agent: { kind: "exec", name: agent },
      params: {},
      timeoutMs: 20_000,
    });
    assert.equal(result.outcome, "success");
    assert.equal(
      dir.read("seen"),
      // ocf-shellfuncs' crm_mon_no_validation runs "$SHELL" -c with bash's process substitution.
      `${PACEMAKER_SHIMS_DIR}/crm_master ${PACEMAKER_SHIMS_DIR} db1 /bin/bash\n`,
    );
  } finally {
    dir.remove();
  }
});

test("a Pacemaker command Vigil does not provide fails the operation that ran it, naming it", async () => {
  const dir = new TempDir();
  try {
    // As agents do, the script ignores the command's failure and reports success.
    const agent = dir.script("agent.sh", "crm_resource --cleanup -r web 2>/dev/null; exit 0");
    const socket = dir.file("control.sock");
    const executor = new Executor({
      clock: steppingClock(),
      nodeName: "db1",
      controlSocket: socket,
    });
    const start = (name: string) =>
      executor.run("web", {
        operation: "start",
        agent: { kind: "exec", name },
        params: {},
        timeoutMs: 20_000,
      });
    const result = await start(agent);
    assert.equal(result.outcome, "failed");
    assert.equal(result.exitCode, OCF_ERR_UNIMPLEMENTED);
    assert.equal(result.reason, "vigil does not provide crm_resource --cleanup -r web");
    // The refusal belongs to that operation only: the next one, calling nothing, succeeds.
    assert.equal((await start(dir.script("quiet.sh", "exit 0"))).outcome, "success");
    assert.equal(existsSync(`${socket}.refused-1`), false);
  } finally {
    dir.remove();
  }
});

test("crm_node -n and pacemakerd -$ are answered by the shim itself, in the command module's words", async () => {
  const dir = new TempDir();
  try {
    const seen = dir.file("seen");
    // Without Node.js to run the module (VIGIL_NODE_BIN unusable), and then through the module.
    const agent = dir.script(
      "agent.sh",
      [
        `VIGIL_NODE_BIN=/nonexistent crm_node -n > ${seen}.fast`,
        `VIGIL_NODE_BIN=/nonexistent pacemakerd -$ >> ${seen}.fast`,
        `VIGIL_PACEMAKERD_VERSION= pacemakerd -$ > ${seen}.module`,
        `env -u VIGIL_NODE OCF_RESKEY_CRM_meta_on_node=db1 crm_node -n >> ${seen}.module`,
      ].join("\n"),
    );
    const executor = new Executor({
      clock: steppingClock(),
      nodeName: "db1",
      controlSocket: dir.file("control.sock"),
    });
    const result = await executor.run("r", {
      operation: "start",
      agent: { kind: "exec", name: agent },
      params: {},
      timeoutMs: 20_000,
    });
    assert.equal(result.outcome, "success");
    const version = "Pacemaker 2.1.5\nWritten by Andrew Beekhof\n";
    assert.equal(dir.read("seen.fast"), `db1\n${version}`);
    assert.equal(dir.read("seen.module"), `${version}db1\n`);
  } finally {
    dir.remove();
  }
});
