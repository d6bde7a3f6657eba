/**
 * `lsb:name`: an init script, /etc/init.d/name start|stop|status. LSB gives start and stop the
 * same exit codes 0–7 as OCF; status is different: 0 running, 3 stopped, 1 and 2 "dead but a pid
 * or lock file remains" (a crash, reported as failed), 4 unknown.
 */
import { join } from "node:path";
import type { AgentRef } from "../../resource-model/types.js";
import type { ActionOutcome, AgentContext, MonitorOutcome, ResourceAgent } from "./agent.js";
import { OCF_ERR_GENERIC, OCF_NOT_RUNNING, OCF_SUCCESS } from "./ocf-codes.js";
import { exitReason, scriptOutcome } from "./script-outcome.js";

export const DEFAULT_INIT_DIR = "/etc/init.d";

const LSB_STATUS_FAILURES: Record<number, string> = {
  1: "program is dead and its pid file exists",
  2: "program is dead and its lock file exists",
  4: "program status is unknown",
};

export function lsbScriptPath(ref: AgentRef, initDir: string): string {
  return join(initDir, ref.name);
}

export class LsbAgent implements ResourceAgent {
  private readonly file: string;

  constructor(
    readonly ref: AgentRef,
    initDir = DEFAULT_INIT_DIR,
  ) {
    this.file = lsbScriptPath(ref, initDir);
  }

  start(ctx: AgentContext): Promise<ActionOutcome> {
    return this.action(ctx, "start");
  }

  async stop(ctx: AgentContext): Promise<ActionOutcome> {
    const outcome = await this.action(ctx, "stop");
    return outcome.code === OCF_NOT_RUNNING ? { code: OCF_SUCCESS } : outcome;
  }

  async monitor(ctx: AgentContext): Promise<MonitorOutcome> {
    const process = await ctx.run({ file: this.file, args: ["status"] });
    if (process.exitCode === 0) return { state: "running" };
    if (process.exitCode === 3) return { state: "not_running" };
    if (process.exitCode === null) {
      const outcome = scriptOutcome(process, this.file);
      return { state: "failed", code: outcome.code, reason: outcome.reason ?? "status failed" };
    }
    const known = LSB_STATUS_FAILURES[process.exitCode];
    const detail = exitReason(process.stderrTail);
    return {
      state: "failed",
      code: OCF_ERR_GENERIC,
      reason: `${this.file} status exited with ${process.exitCode}: ${known ?? "not an LSB status code"}${detail ? ` (${detail})` : ""}`,
    };
  }

  private async action(ctx: AgentContext, action: string): Promise<ActionOutcome> {
    return scriptOutcome(await ctx.run({ file: this.file, args: [action] }), this.file);
  }
}
