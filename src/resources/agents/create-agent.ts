/** Builds the agent an `AgentRef` names. Paths are options so tests can point at temp dirs. */
import { isAbsolute } from "node:path";
import { formatAgentRef } from "../../resource-model/agent-ref.js";
import type { AgentRef } from "../../resource-model/types.js";
import type { ResourceAgent } from "./agent.js";
import { DirectorAgent } from "./director/director-agent.js";
import { createExecAgent } from "./exec-agent.js";
import { DEFAULT_INIT_DIR, LsbAgent } from "./lsb-agent.js";
import { createOcfAgent, DEFAULT_OCF_ROOT } from "./ocf-agent.js";
import { OCF_ERR_CONFIGURED } from "./ocf-codes.js";
import { createSystemdAgent, SYSTEMD_RUNTIME_DIR } from "./systemd-agent.js";
import { UnavailableAgent } from "./unavailable-agent.js";
import { VipAgent } from "./vip/vip-agent.js";

export interface AgentPaths {
  /** OCF_ROOT: agents live in <ocfRoot>/resource.d/<provider>/<type>. */
  ocfRoot?: string;
  /** Where LSB init scripts live. */
  initDir?: string;
  /** Present only when systemd is the running init system. */
  systemdRuntimeDir?: string;
}

export function createAgent(ref: AgentRef, paths: AgentPaths = {}): ResourceAgent {
  const problem = refProblem(ref);
  if (problem !== undefined) return new UnavailableAgent(ref, OCF_ERR_CONFIGURED, problem);
  switch (ref.kind) {
    case "vip":
      return new VipAgent();
    case "director":
      return new DirectorAgent();
    case "exec":
      return createExecAgent(ref);
    case "ocf":
      return createOcfAgent(ref, paths.ocfRoot ?? DEFAULT_OCF_ROOT);
    case "lsb":
      return new LsbAgent(ref, paths.initDir ?? DEFAULT_INIT_DIR);
    case "systemd":
      return createSystemdAgent(ref, paths.systemdRuntimeDir ?? SYSTEMD_RUNTIME_DIR);
  }
}

/** Why the reference cannot name an agent, or undefined. Guards against `../` escapes too. */
export function refProblem(ref: AgentRef): string | undefined {
  const text = formatAgentRef(ref);
  switch (ref.kind) {
    case "vip":
    case "director":
      return undefined;
    case "exec":
      return isAbsolute(ref.name) ? undefined : `agent ${text}: the exec path must be absolute`;
    case "ocf":
      return /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(ref.name) && !ref.name.includes("..")
        ? undefined
        : `agent ${text}: expected ocf:provider:type`;
    case "lsb":
    case "systemd":
      return /^[A-Za-z0-9_.@:-]+$/.test(ref.name) && !ref.name.startsWith(".")
        ? undefined
        : `agent ${text}: "${ref.name}" is not a valid ${ref.kind} name`;
    default:
      return `agent kind "${(ref as AgentRef).kind}" is unknown: expected vip, exec, ocf, lsb, systemd or director`;
  }
}
