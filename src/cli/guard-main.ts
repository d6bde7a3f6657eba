import { parseArgs } from "node:util";
import { runGuardCommand } from "./commands/guard.js";

/**
 * The node guard's own entry point, which the agent starts (guard-link.ts): the same as the
 * hidden `vigil guard` command, without loading the whole CLI. The guard is a second process on
 * every node: what it does not load, it does not keep resident.
 */
try {
  const { values } = parseArgs({
    options: {
      "agent-pid": { type: "string" },
      "hang-ms": { type: "string" },
      node: { type: "string" },
      action: { type: "string" },
      "watchdog-device": { type: "string" },
    },
    strict: true,
  });
  if (values["agent-pid"] === undefined) throw new Error("--agent-pid is required");
  await runGuardCommand({
    agentPid: values["agent-pid"],
    ...(values["hang-ms"] === undefined ? {} : { hangMs: values["hang-ms"] }),
    ...(values.node === undefined ? {} : { node: values.node }),
    ...(values.action === undefined ? {} : { action: values.action }),
    ...(values["watchdog-device"] === undefined
      ? {}
      : { watchdogDevice: values["watchdog-device"] }),
  });
} catch (error) {
  process.stderr.write(`vigil guard: ${(error as Error).message}\n`);
  process.exit(2);
}
