/**
 * Answers "what is this agent and what parameters does it take?" for config validation, without
 * running any resource: built-in agents describe themselves, OCF and exec agents are asked with
 * `meta-data` (cached until the file changes), LSB scripts and systemd units take no parameters.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { formatAgentRef } from "../../resource-model/agent-ref.js";
import type { AgentRef } from "../../resource-model/types.js";
import type { CommandSpec, ProcessRunner } from "../executor/process-runner.js";
import type { AgentContext } from "./agent.js";
import { type AgentPaths, createAgent, refProblem } from "./create-agent.js";
import { DIRECTOR_METADATA } from "./director/director-agent.js";
import { lsbScriptPath } from "./lsb-agent.js";
import type { AgentMetadata } from "./metadata.js";
import { DEFAULT_OCF_ROOT, ocfAgentPath } from "./ocf-agent.js";
import {
  SYSTEMD_NOT_RUNNING,
  SYSTEMD_RUNTIME_DIR,
  systemdRunning,
  unitName,
} from "./systemd-agent.js";
import { VIP_METADATA } from "./vip/vip-agent.js";

export interface AgentCatalogOptions extends AgentPaths {
  runner: ProcessRunner;
  /** OCF's advised meta-data timeout is 5 s. */
  metadataTimeoutMs?: number;
}

export type DescribeResult = AgentMetadata | { error: string };

export class AgentCatalog {
  private readonly cache = new Map<string, { mtimeMs: number; metadata: AgentMetadata }>();
  private readonly metadataTimeoutMs: number;

  constructor(private readonly options: AgentCatalogOptions) {
    this.metadataTimeoutMs = options.metadataTimeoutMs ?? 5_000;
  }

  async describe(ref: AgentRef): Promise<DescribeResult> {
    const problem = refProblem(ref);
    if (problem !== undefined) return { error: problem };
    const text = formatAgentRef(ref);
    switch (ref.kind) {
      case "vip":
        return VIP_METADATA;
      case "director":
        return DIRECTOR_METADATA;
      case "exec":
        return this.describeScript(ref, ref.name, text);
      case "ocf":
        return this.describeScript(
          ref,
          ocfAgentPath(ref, this.options.ocfRoot ?? DEFAULT_OCF_ROOT),
          text,
        );
      case "lsb": {
        const path = lsbScriptPath(ref, this.options.initDir ?? "/etc/init.d");
        const missing = await executableProblem(path, text);
        return missing ? { error: missing } : noParameters(ref.name);
      }
      case "systemd":
        return this.describeUnit(ref, text);
    }
  }

  private async describeScript(ref: AgentRef, path: string, text: string): Promise<DescribeResult> {
    const missing = await executableProblem(path, text);
    if (missing) return { error: missing };
    const { mtimeMs } = await stat(path);
    const cached = this.cache.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached.metadata;
    const agent = createAgent(ref, this.options);
    try {
      const metadata = await agent.metaData!(this.context(ref));
      this.cache.set(path, { mtimeMs, metadata });
      return metadata;
    } catch (error) {
      return { error: `agent ${text}: ${(error as Error).message}` };
    }
  }

  private async describeUnit(ref: AgentRef, text: string): Promise<DescribeResult> {
    if (!systemdRunning(this.options.systemdRuntimeDir ?? SYSTEMD_RUNTIME_DIR)) {
      return { error: `agent ${text}: ${SYSTEMD_NOT_RUNNING}` };
    }
    const unit = unitName(ref.name);
    const shown = await this.options.runner.run({
      file: "systemctl",
      args: ["show", "-p", "LoadState", "--value", unit],
      timeoutMs: this.metadataTimeoutMs,
    });
    const loadState = shown.stdout.trim();
    if (shown.exitCode !== 0 || loadState === "not-found") {
      return {
        error: `agent ${text}: systemd has no unit ${unit} (LoadState=${loadState || "?"})`,
      };
    }
    return noParameters(unit);
  }

  private context(ref: AgentRef): AgentContext {
    const signal = AbortSignal.timeout(this.metadataTimeoutMs);
    const runner = this.options.runner;
    return {
      resourceId: `meta-data:${formatAgentRef(ref)}`,
      params: {},
      timeoutMs: this.metadataTimeoutMs,
      signal,
      run: (command: Omit<CommandSpec, "signal">) => runner.run({ ...command, signal }),
      runner,
    };
  }
}

async function executableProblem(path: string, text: string): Promise<string | undefined> {
  try {
    await access(path, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `agent ${text} not found: ${path} does not exist`
      : `agent ${text}: ${path} is not executable (${code})`;
  }
}

/** LSB scripts and systemd units take no parameters; any given would be ignored. */
function noParameters(name: string): AgentMetadata {
  return {
    name,
    parameters: [],
    actions: [
      { name: "start", timeoutMs: 20_000 },
      { name: "stop", timeoutMs: 20_000 },
      { name: "monitor", timeoutMs: 20_000, intervalMs: 10_000 },
    ],
    describesParameters: true,
  };
}
