/**
 * An agent that cannot work on this host (systemd absent, a malformed reference): every action
 * answers with the same OCF error and reason, so the policy engine learns why and where.
 */
import type { AgentRef } from "../../resource-model/types.js";
import type { ActionOutcome, MonitorOutcome, ResourceAgent } from "./agent.js";
import type { OcfExitCode } from "./ocf-codes.js";

export class UnavailableAgent implements ResourceAgent {
  constructor(
    readonly ref: AgentRef,
    private readonly code: OcfExitCode,
    readonly reason: string,
  ) {}

  async start(): Promise<ActionOutcome> {
    return { code: this.code, reason: this.reason };
  }

  async stop(): Promise<ActionOutcome> {
    return { code: this.code, reason: this.reason };
  }

  async monitor(): Promise<MonitorOutcome> {
    return { state: "failed", code: this.code, reason: this.reason };
  }
}
