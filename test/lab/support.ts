/**
 * Whether this machine can run a lab. Locally a missing precondition skips lab tests with the
 * reason; in CI (env CI set) the tests run anyway and fail loudly, so a broken CI image can
 * never pass by skipping everything.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export type LabSupport = { ok: true } | { ok: false; reason: string };

/** What every lab needs; tests add the tools they run inside hosts (ping, socat, ...). */
const REQUIRED_TOOLS = ["ip", "nft"] as const;

export function labSupport(extraTools: readonly string[] = []): LabSupport {
  if (process.platform !== "linux")
    return { ok: false, reason: "the test lab needs Linux network namespaces" };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: "the test lab needs root (network namespaces, nftables)" };
  const missing = [...REQUIRED_TOOLS, ...extraTools].filter(
    (tool) => findExecutable(tool) === null,
  );
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `the test lab needs ${missing.join(", ")} on PATH (Debian: apt-get install iproute2 nftables socat iputils-ping)`,
    };
  }
  return { ok: true };
}

/** Options for node:test: `{ skip: reason }` when the lab cannot run here, except in CI. */
export function labTestOptions(extraTools: readonly string[] = []): { skip?: string } {
  if (process.env.CI !== undefined && process.env.CI !== "") return {};
  const support = labSupport(extraTools);
  return support.ok ? {} : { skip: support.reason };
}

function findExecutable(name: string): string | null {
  // Only PATH: the lab spawns tools by name, so a tool outside PATH is as good as missing.
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not in this directory; try the next.
    }
  }
  return null;
}
