import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { monotonicMs } from "../../../src/time/clock.js";
import {
  formatGuardLine,
  type GuardMessage,
  type HeldResource,
} from "../../../src/watchdog/guard-protocol.js";

const MARKER = fileURLToPath(new URL("../../../examples/agents/marker", import.meta.url));
/** The node name the tests start their guards with (--node). */
export const GUARD_NODE = "n1";

/** A guard line as the agent writes it now; `lease N` means a lease for N more ms. */
export function line(message: GuardMessage | `lease ${number}`): string {
  const now = monotonicMs();
  if (typeof message === "string") {
    return formatGuardLine(now, { kind: "lease", untilMs: now + Number(message.slice(6)) });
  }
  return formatGuardLine(now, message);
}

/** Holds a resource whose stop cannot work (its agent does not exist): the guard must fence. */
export function unstoppableLine(): string {
  return line({
    kind: "hold",
    resource: {
      key: "unstoppable",
      agent: { kind: "exec", name: "/nonexistent/agent" },
      params: {},
      timeoutMs: 5000,
    },
  });
}

/** A marker resource (examples/agents/marker): running while its file exists. */
export function markerResource(key: string, statedir: string): HeldResource {
  return { key, agent: { kind: "exec", name: MARKER }, params: { statedir }, timeoutMs: 5000 };
}

export function markerFile(resource: HeldResource): string {
  return join(resource.params.statedir ?? "", `${resource.key}.${GUARD_NODE}.running`);
}

/** Starts a marker resource as the agent would have, and returns the line that holds it. */
export async function startMarker(resource: HeldResource): Promise<string> {
  await writeFile(markerFile(resource), "");
  return line({ kind: "hold", resource });
}
