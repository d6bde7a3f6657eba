import { setTimeout as sleep } from "node:timers/promises";
import { controlGet } from "../../control/client.js";
import type { ClusterState } from "../../state/types.js";
import { CommandError, UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";
import {
  cellsOf,
  describeCells,
  keysOfResource,
  nodeRunningResource,
  type ResourceKeys,
  resourceShape,
  runningAgain,
  runningKeys,
  stoppedEverywhere,
} from "../resource-view.js";
import { duration } from "../status-table.js";
import { type RuntimeSwitchOptions, submit, submitRuntime } from "./runtime-switches.js";

const POLL_MS = 50;
const DEFAULT_TIMEOUT_S = 60;
/** Longer is no longer waiting for a restart: a day. */
const MAX_TIMEOUT_S = 86_400;

function readState(socketPath: string): Promise<ClusterState> {
  return controlGet<ClusterState>(socketPath, "/v1/state");
}

/** The node RES runs on now, for move/ban without a node; refused when there is not exactly one. */
async function currentNode(options: RuntimeSwitchOptions, resource: string): Promise<string> {
  const found = nodeRunningResource(await readState(await controlSocketPath(options)), resource);
  if ("error" in found) throw new CommandError(found.error);
  return found.node;
}

const clearHint = (resource: string, what: string) =>
  `\`vigil resource clear ${resource}\` removes the ${what}`;

/**
 * `vigil resource move RES [NODE]`: with a node, RES prefers it (+INFINITY); without one, like
 * crm_resource --move, RES is banned from the node it runs on now.
 */
export async function runResourceMove(
  resource: string,
  node: string | undefined,
  options: RuntimeSwitchOptions,
): Promise<void> {
  if (node !== undefined) {
    await submit(
      options,
      { type: "resource_move", resource, node },
      `${resource} moves to ${node}: it prefers ${node} now (+INFINITY)`,
      clearHint(resource, "preference"),
    );
    return;
  }
  const from = await currentNode(options, resource);
  await submit(
    options,
    { type: "resource_ban", resource, node: from },
    `${resource} runs on ${from}: banned it from ${from}, so it moves to another node`,
    clearHint(resource, "ban"),
  );
}

/** `vigil resource ban RES [NODE]`: RES may not run on NODE (default: where it runs now). */
export async function runResourceBan(
  resource: string,
  node: string | undefined,
  options: RuntimeSwitchOptions,
): Promise<void> {
  const on = node ?? (await currentNode(options, resource));
  await submit(
    options,
    { type: "resource_ban", resource, node: on },
    node === undefined
      ? `${resource} runs on ${on}: banned it from ${on}`
      : `${resource} is banned from ${on}`,
    clearHint(resource, "ban"),
  );
}

/** `vigil resource clear RES`: forget the operators' moves and bans of RES. */
export function runResourceClear(resource: string, options: RuntimeSwitchOptions): Promise<void> {
  return submit(
    options,
    { type: "resource_clear", resource },
    `moves and bans of ${resource} cleared`,
  );
}

/** `vigil resource stop|start RES`: the operator's target role on top of the configuration. */
export function resourceRoleCommand(stopped: boolean) {
  return (resource: string, options: RuntimeSwitchOptions) =>
    submit(
      options,
      { type: "resource_role", resource, stopped },
      stopped
        ? `${resource} is stopped by the operator: it stops everywhere`
        : `${resource} is no longer stopped by the operator: it may run again`,
      stopped ? `\`vigil resource start ${resource}\` starts it again` : undefined,
    );
}

export interface RestartOptions extends RuntimeSwitchOptions {
  timeout?: string;
}

export function parseTimeoutSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_S) {
    throw new UsageError(
      `--timeout takes a number of seconds greater than 0 and at most ${MAX_TIMEOUT_S} (a day), got "${text}"`,
    );
  }
  return seconds * 1000;
}

/**
 * Polls the state every POLL_MS until `done` holds or `timeoutMs` passes. An agent that does not
 * answer once (busy, restarting) is asked again; the last state and error are kept for messages.
 */
async function waitForState(
  socketPath: string,
  timeoutMs: number,
  done: (state: ClusterState) => boolean | "abort",
): Promise<{ outcome: "done" | "timeout" | "abort"; state: ClusterState | null; error?: Error }> {
  const deadline = Date.now() + timeoutMs;
  let state: ClusterState | null = null;
  let error: Error | undefined;
  for (;;) {
    try {
      state = await readState(socketPath);
      error = undefined;
      const result = done(state);
      if (result === "abort") return { outcome: "abort", state };
      if (result) return { outcome: "done", state };
    } catch (caught) {
      error = caught as Error;
    }
    if (Date.now() >= deadline) return { outcome: "timeout", state, ...(error ? { error } : {}) };
    await sleep(POLL_MS);
  }
}

function nodesOf(state: ClusterState, keys: ResourceKeys): string {
  const nodes = [
    ...new Set(
      cellsOf(state, keys)
        .filter(({ cell }) => cell.active !== undefined)
        .map(({ node }) => node),
    ),
  ].sort();
  return nodes.length === 0 ? "no node" : nodes.join(", ");
}

/**
 * `vigil resource restart RES [--timeout S]`: stop RES everywhere (the operator's stop), wait
 * until no node may run any of its keys, lift the stop, wait until it runs again.
 */
export async function runResourceRestart(resource: string, options: RestartOptions): Promise<void> {
  const timeoutMs = parseTimeoutSeconds(options.timeout);
  const socketPath = await controlSocketPath(options);
  const initial = await readState(socketPath);
  if (initial.maintenance) {
    throw new CommandError(
      "maintenance mode is on: nothing would be stopped or started (`vigil maintenance off` first)",
    );
  }
  const keys = keysOfResource(resourceShape(initial), resource);
  const before = keys === undefined ? 0 : runningKeys(initial, keys).length;
  const wasOn = keys === undefined ? "" : nodesOf(initial, keys);
  if (initial.operator[resource]?.stopped === true) {
    process.stdout.write(`${resource} was already stopped by the operator: restart starts it\n`);
  }

  // The agent answers 404 for a name it does not know: submitted before anything else.
  const stop = await submitRuntime(options, { type: "resource_role", resource, stopped: true });
  if (!stop.ok) throw new CommandError(stop.error);
  if (keys === undefined) {
    throw new CommandError(
      `${resource} is stopped by the operator, but the configuration changed meanwhile and the restart cannot follow it: \`vigil resource start ${resource}\` starts it again`,
    );
  }
  process.stdout.write(
    `stopping ${resource} (on ${wasOn}; cluster state version ${stop.version})\n`,
  );
  const startedAt = Date.now();
  const stopped = await waitForState(socketPath, timeoutMs, (state) => {
    if (cellsOf(state, keys).some(({ cell }) => cell.stopFailed === true)) return "abort";
    return stoppedEverywhere(state, keys);
  });
  const stopMs = Date.now() - startedAt;
  if (stopped.outcome !== "done") {
    const left = stopped.state === null ? [] : cellsOf(stopped.state, keys);
    const stopFailed = left.filter(({ cell }) => cell.stopFailed === true);
    const cleanup = [...new Set(stopFailed.map(({ node }) => node))]
      .map((node) => `\`vigil resource cleanup ${resource} --node ${node}\``)
      .join(", ");
    throw new CommandError(
      stopped.outcome === "abort"
        ? `stopping ${resource} failed: ${describeCells(stopFailed)}. It stays stopped by the operator; once it is really stopped there, run ${cleanup}, then \`vigil resource start ${resource}\``
        : `${resource} did not stop within ${duration(timeoutMs)}${left.length > 0 ? `: still ${describeCells(left)}` : ""}${stopped.error ? ` (last error: ${stopped.error.message})` : ""}. It stays stopped by the operator; \`vigil resource start ${resource}\` starts it again`,
    );
  }
  process.stdout.write(`${resource} stopped everywhere after ${duration(stopMs)}\n`);

  const start = await submitRuntime(options, { type: "resource_role", resource, stopped: false });
  if (!start.ok) {
    throw new CommandError(
      `${resource} is stopped, but starting it again was refused: ${start.error}. \`vigil resource start ${resource}\` starts it again`,
    );
  }
  process.stdout.write(`starting ${resource} (cluster state version ${start.version})\n`);
  const startAt = Date.now();
  const running = await waitForState(socketPath, timeoutMs, (state) =>
    runningAgain(state, keys, before),
  );
  const startMs = Date.now() - startAt;
  if (running.outcome !== "done") {
    const now = running.state === null ? [] : cellsOf(running.state, keys);
    throw new CommandError(
      `${resource} was started again but does not run within ${duration(timeoutMs)}${now.length > 0 ? ` (now: ${describeCells(now)})` : " (it runs nowhere yet)"}${running.error ? ` (last error: ${running.error.message})` : ""}. The operator stop is lifted and the cluster keeps trying: see \`vigil status\` and \`vigil explain ${resource}\`; \`vigil resource start ${resource}\` is already done`,
    );
  }
  process.stdout.write(
    `${resource} runs again on ${nodesOf(running.state!, keys)} after ${duration(startMs)} (restart took ${duration(stopMs + startMs)})\n`,
  );
}
