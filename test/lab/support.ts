/**
 * Whether this machine can run a lab. Locally a missing precondition skips lab tests with the
 * reason; in CI (env CI set) the tests run anyway and fail loudly, so a broken CI image can
 * never pass by skipping everything.
 *
 * The probes run in an anonymous namespace (`unshare --net`): nothing is named, so nothing can be
 * left behind, and the namespace dies with the probe process.
 */
import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export type LabSupport = { ok: true } | { ok: false; reason: string };

/** What every lab needs; tests add the tools they run inside hosts (ping, socat, ...). */
const REQUIRED_TOOLS = ["ip", "nft", "unshare"] as const;
const PROBE_TIMEOUT_MS = 10_000;

/** Creates a veth pair and a bridge: the kernel objects every lab is made of. */
const TOPOLOGY_PROBE =
  "ip link add probe0 type veth peer name probe1 && ip link add probebr type bridge";
/** An nft netdev table on lo, so only the hook type decides. */
function hookProbe(hook: "ingress" | "egress"): string {
  return [
    "table netdev vigil_probe {",
    `  chain probe { type filter hook ${hook} device "lo" priority 0; policy accept; }`,
    "}",
    "",
  ].join("\n");
}

let cachedSupport: LabSupport | null = null;

/** Root, the tools, namespaces with veth and bridges, and nft netdev ingress hooks. Cached. */
export function labAvailable(extraTools: readonly string[] = []): LabSupport {
  const missing = extraTools.filter((tool) => findExecutable(tool) === null);
  if (missing.length > 0) return missingTools(missing);
  cachedSupport ??= probeLab();
  return cachedSupport;
}

/** Options for node:test: `{ skip: reason }` when the lab cannot run here, except in CI. */
export function labTestOptions(extraTools: readonly string[] = []): { skip?: string } {
  if (process.env.CI !== undefined && process.env.CI !== "") return {};
  const support = labAvailable(extraTools);
  return support.ok ? {} : { skip: support.reason };
}

let cachedEgress: Promise<boolean> | null = null;

/** Whether nft can hook netdev egress here (Linux >= 5.16, nft >= 1.0.1). Cached. */
export function egressHookSupported(): Promise<boolean> {
  cachedEgress ??= new Promise((resolve) => {
    const child = execFile(
      "unshare",
      ["--net", "nft", "-f", "-"],
      { timeout: PROBE_TIMEOUT_MS },
      (error) => resolve(error === null),
    );
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(hookProbe("egress"));
  });
  return cachedEgress;
}

function probeLab(): LabSupport {
  if (process.platform !== "linux")
    return { ok: false, reason: "the test lab needs Linux network namespaces" };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: "the test lab needs root (network namespaces, nftables)" };
  const missing = REQUIRED_TOOLS.filter((tool) => findExecutable(tool) === null);
  if (missing.length > 0) return missingTools(missing);
  const topology = probe(["--net", "sh", "-c", TOPOLOGY_PROBE]);
  if (topology !== null)
    return { ok: false, reason: `network namespaces with veth and bridges unusable: ${topology}` };
  const ingress = probe(["--net", "nft", "-f", "-"], hookProbe("ingress"));
  if (ingress !== null)
    return { ok: false, reason: `nft netdev ingress hook unusable: ${ingress}` };
  return { ok: true };
}

/** Runs `unshare args`; null on success, else the error output. */
function probe(args: readonly string[], input = ""): string | null {
  try {
    execFileSync("unshare", [...args], {
      input,
      timeout: PROBE_TIMEOUT_MS,
      stdio: ["pipe", "ignore", "pipe"],
    });
    return null;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    return stderr || String(error);
  }
}

function missingTools(missing: readonly string[]): LabSupport {
  return {
    ok: false,
    reason: `the test lab needs ${missing.join(", ")} on PATH (Debian: apt-get install iproute2 nftables socat iputils-ping)`,
  };
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
