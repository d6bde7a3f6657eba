/**
 * Where a device's fence agent is and what it says about itself. `fence_xxx` is the first
 * executable file of that name in the search path (/usr/sbin, /sbin, /usr/bin, where Debian's
 * fence-agents are), `exec:/path` that file. Its meta-data is asked the way Pacemaker asks it
 * (`action=metadata` on stdin, the same XML as `fence_xxx -o metadata`) and kept until the file
 * changes. Every fence-agents program answers; a script of one's own may not, and is then run
 * without it (and cannot be checked against it).
 */
import { constants } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { closestMatch } from "../config/suggest.js";
import { type AgentMetadata, parseOcfMetadata } from "../resources/agents/metadata.js";
import {
  ChildProcessRunner,
  type ProcessOutcome,
  type ProcessRunner,
} from "../resources/executor/process-runner.js";
import { cleanAgentOutput } from "./agent-output.js";

export const DEFAULT_FENCE_SEARCH_PATH: readonly string[] = ["/usr/sbin", "/sbin", "/usr/bin"];

/** Python fence agents answer in ~100 ms; Pacemaker allows meta-data far longer. */
const METADATA_TIMEOUT_MS = 10_000;

export type FenceAgentLookup =
  | {
      found: true;
      file: string;
      /** null when the agent gave none; `metadataProblem` says why. */
      metadata: AgentMetadata | null;
      metadataProblem?: string;
    }
  | { found: false; problem: string };

export interface FenceAgentCatalogOptions {
  /** Default: a ChildProcessRunner. */
  runner?: ProcessRunner;
  /** Default DEFAULT_FENCE_SEARCH_PATH. */
  searchPath?: readonly string[];
}

export class FenceAgentCatalog {
  readonly runner: ProcessRunner;
  readonly searchPath: readonly string[];
  private readonly cache = new Map<string, { mtimeMs: number; lookup: FenceAgentLookup }>();

  constructor(options: FenceAgentCatalogOptions = {}) {
    this.runner = options.runner ?? new ChildProcessRunner();
    this.searchPath = options.searchPath ?? DEFAULT_FENCE_SEARCH_PATH;
  }

  /**
   * The agent's file and meta-data, or why it cannot be run (not found, naming a near name).
   * Reading the meta-data takes at most `timeoutMs`; one that timed out is asked again next time.
   */
  async lookUp(agent: string, timeoutMs = METADATA_TIMEOUT_MS): Promise<FenceAgentLookup> {
    const file = await this.resolve(agent);
    if (file === undefined) return { found: false, problem: await this.notFound(agent) };
    let mtimeMs: number;
    try {
      ({ mtimeMs } = await stat(file));
    } catch (error) {
      return { found: false, problem: `cannot run ${file}: ${(error as Error).message}` };
    }
    const cached = this.cache.get(file);
    if (cached?.mtimeMs === mtimeMs) return cached.lookup;
    const { lookup, final } = await this.readMetadata(
      file,
      Math.min(timeoutMs, METADATA_TIMEOUT_MS),
    );
    if (final) this.cache.set(file, { mtimeMs, lookup });
    return lookup;
  }

  /** `exec:/path` is that file; `fence_xxx` is the first executable file in the search path. */
  private async resolve(agent: string): Promise<string | undefined> {
    if (agent.startsWith("exec:")) {
      const file = agent.slice("exec:".length);
      return (await isExecutableFile(file)) ? file : undefined;
    }
    for (const dir of this.searchPath) {
      const file = join(dir, agent);
      if (await isExecutableFile(file)) return file;
    }
    return undefined;
  }

  private async notFound(agent: string): Promise<string> {
    if (agent.startsWith("exec:")) {
      return `fence agent ${agent.slice("exec:".length)} does not exist or is not an executable file`;
    }
    const installed = await this.installedAgents();
    const near = closestMatch(agent, installed);
    const hint =
      near !== undefined
        ? ` (did you mean ${near}?)`
        : installed.length === 0
          ? " (no fence agent at all there: apt-get install fence-agents)"
          : "";
    return `fence agent ${agent} not found (or not executable) in ${this.searchPath.join(", ")}${hint}`;
  }

  /** Every `fence_xxx` in the search path, for "did you mean". */
  private async installedAgents(): Promise<string[]> {
    const names = new Set<string>();
    for (const dir of this.searchPath) {
      const entries = await readdir(dir).catch(() => [] as string[]);
      for (const name of entries) if (/^fence_[A-Za-z0-9_]+$/.test(name)) names.add(name);
    }
    return [...names].sort();
  }

  /** `final` is false for an answer that may differ next time (it timed out, it could not run). */
  private async readMetadata(
    file: string,
    timeoutMs: number,
  ): Promise<{ lookup: FenceAgentLookup; final: boolean }> {
    const without = (metadataProblem: string, final = true) => ({
      lookup: { found: true, file, metadata: null, metadataProblem } as const,
      final,
    });
    let outcome: ProcessOutcome;
    try {
      outcome = await this.runner.run({
        file,
        args: [],
        stdin: "action=metadata\n",
        timeoutMs,
      });
    } catch (error) {
      return without(`could not run it: ${(error as Error).message}`, false);
    }
    if (outcome.spawnError !== undefined) return without(outcome.spawnError.message, false);
    if (outcome.timedOut) return without(`no answer within ${timeoutMs} ms`, false);
    if (outcome.exitCode !== 0) {
      const said = cleanAgentOutput(outcome.stderrTail);
      return without(`exit code ${outcome.exitCode}${said === "" ? "" : `: ${said}`}`);
    }
    try {
      return {
        lookup: { found: true, file, metadata: parseOcfMetadata(outcome.stdout) },
        final: true,
      };
    } catch (error) {
      return without(`its meta-data cannot be read: ${(error as Error).message}`);
    }
  }
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
