import type { AgentRef } from "./types.js";

/** How an operator writes the reference: `vip`, `exec:/path`, `ocf:heartbeat:IPaddr2`, `lsb:nginx`. */
export function formatAgentRef(ref: AgentRef): string {
  switch (ref.kind) {
    case "vip":
    case "director":
      return ref.kind;
    case "ocf":
      return `ocf:${ref.name.replace("/", ":")}`;
    default:
      return `${ref.kind}:${ref.name}`;
  }
}
