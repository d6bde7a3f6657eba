/** `ocf:provider:type`: /usr/lib/ocf/resource.d/provider/type, per the OCF Resource Agent API. */
import { join } from "node:path";
import { CRM_FEATURE_SET } from "../../pacemaker/crm-feature-set.js";
import type { AgentRef } from "../../resource-model/types.js";
import type { AgentContext } from "./agent.js";
import { ocfParameterEnvironment, ScriptAgent } from "./script-agent.js";

export const DEFAULT_OCF_ROOT = "/usr/lib/ocf";

export function ocfAgentPath(ref: AgentRef, ocfRoot: string): string {
  return join(ocfRoot, "resource.d", ref.name);
}

export function createOcfAgent(ref: AgentRef, ocfRoot = DEFAULT_OCF_ROOT): ScriptAgent {
  const [provider = "", type = ""] = ref.name.split("/");
  return new ScriptAgent({
    ref,
    file: ocfAgentPath(ref, ocfRoot),
    metadataRequired: true,
    environment: (ctx: AgentContext, action: string) => ({
      OCF_ROOT: ocfRoot,
      OCF_RA_VERSION_MAJOR: "1",
      OCF_RA_VERSION_MINOR: "1",
      OCF_RESOURCE_INSTANCE: ctx.resourceId,
      OCF_RESOURCE_PROVIDER: provider,
      OCF_RESOURCE_TYPE: type,
      // Agents compare it to choose between Pacemaker's commands (src/pacemaker/ provides them).
      OCF_RESKEY_crm_feature_set: CRM_FEATURE_SET,
      OCF_RESKEY_CRM_meta_name: action,
      // Pacemaker passes both in milliseconds; agents use them to size their own waits.
      OCF_RESKEY_CRM_meta_timeout: String(ctx.timeoutMs),
      ...(ctx.nodeName === undefined ? {} : { OCF_RESKEY_CRM_meta_on_node: ctx.nodeName }),
      // 0 for everything but a recurring monitor: ocf_is_probe tells a probe by it.
      OCF_RESKEY_CRM_meta_interval: String(ctx.intervalMs ?? 0),
      ...ocfParameterEnvironment(ctx),
    }),
  });
}
