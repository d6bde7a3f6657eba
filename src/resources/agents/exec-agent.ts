/**
 * `exec:/path`: any executable called as `/path start|stop|monitor|promote|demote|meta-data`,
 * answering with OCF exit codes. Parameters arrive as VIGIL_PARAM_<NAME> (upper case) and, so
 * that small OCF-style scripts work unchanged, as OCF_RESKEY_<name>; VIGIL_RESOURCE_ID and
 * VIGIL_NODE name the resource and the node.
 */
import type { AgentRef } from "../../resource-model/types.js";
import type { AgentContext } from "./agent.js";
import { ocfParameterEnvironment, ScriptAgent } from "./script-agent.js";

export function createExecAgent(ref: AgentRef): ScriptAgent {
  return new ScriptAgent({
    ref,
    file: ref.name,
    metadataRequired: false,
    environment: (ctx: AgentContext) => {
      const ocf = ocfParameterEnvironment(ctx);
      const vigil: Record<string, string> = {};
      for (const [name, value] of Object.entries(ctx.params)) {
        vigil[`VIGIL_PARAM_${name.toUpperCase()}`] = value;
      }
      return {
        VIGIL_RESOURCE_ID: ctx.resourceId,
        VIGIL_TIMEOUT_MS: String(ctx.timeoutMs),
        ...(ctx.nodeName === undefined ? {} : { VIGIL_NODE: ctx.nodeName }),
        OCF_RESOURCE_INSTANCE: ctx.resourceId,
        ...ocf,
        ...vigil,
      };
    },
  });
}
