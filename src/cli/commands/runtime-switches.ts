import { hostname, userInfo } from "node:os";
import { controlPost } from "../../control/client.js";
import type { SubmitResult } from "../../coordination/cluster-message.js";
import { UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";

export interface RuntimeSwitchOptions {
  socket?: string;
  config?: string;
}

/** Posts a runtime change to the local agent (which forwards it to the leader), as user@host. */
export async function submitRuntime(
  options: RuntimeSwitchOptions,
  request: object,
): Promise<SubmitResult> {
  return controlPost<SubmitResult>(await controlSocketPath(options), "/v1/runtime", {
    ...request,
    by: `${userInfo().username}@${hostname()}`,
  });
}

/**
 * Submits a runtime change and says what it did, with the state version it was committed at
 * (and `hint`, what undoes it, on a line of its own); a refused change is an error, exit 1.
 */
export async function submit(
  options: RuntimeSwitchOptions,
  request: object,
  done: string,
  hint?: string,
): Promise<void> {
  const result = await submitRuntime(options, request);
  if (!result.ok) {
    process.stderr.write(`vigil: ${result.error}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${done} (cluster state version ${result.version})\n`);
  if (hint !== undefined) process.stdout.write(`${hint}\n`);
}

/** `vigil node standby|online NODE`: a standby node keeps its vote but runs no resources. */
export function nodeStandbyCommand(standby: boolean) {
  return (node: string, options: RuntimeSwitchOptions) =>
    submit(
      options,
      { type: "node_standby", node, standby },
      standby ? `node ${node} is in standby` : `node ${node} is online`,
    );
}

/** `vigil maintenance on|off`: stop managing resources without stopping any. */
export async function runMaintenance(state: string, options: RuntimeSwitchOptions): Promise<void> {
  if (state !== "on" && state !== "off")
    throw new UsageError(`vigil maintenance takes on or off, got "${state}"`);
  await submit(options, { type: "maintenance", on: state === "on" }, `maintenance mode ${state}`);
}

/**
 * `vigil resource cleanup RES [--node NODE]`: forget its failures, so it may run there again. A
 * group's name cleans its members, a clone's name all its copies (the state machine expands it).
 */
export function runResourceCleanup(
  resource: string,
  options: RuntimeSwitchOptions & { node?: string },
) {
  return submit(
    options,
    {
      type: "fail_count_reset",
      resource,
      ...(options.node !== undefined ? { node: options.node } : {}),
    },
    `fail counts of ${resource}${options.node !== undefined ? ` on ${options.node}` : ""} cleared`,
  );
}
