/**
 * Agents that are an executable taking the action as argv[1] and parameters from the environment:
 * OCF resource agents and Vigil's `exec:` scripts. Only the file and the environment differ.
 */
import { basename } from "node:path";
import type { AgentRef } from "../../resource-model/types.js";
import type { ActionOutcome, AgentContext, MonitorOutcome, ResourceAgent } from "./agent.js";
import { type AgentMetadata, MetadataError, parseOcfMetadata } from "./metadata.js";
import {
  OCF_ERR_CONFIGURED,
  OCF_FAILED_PROMOTED,
  OCF_NOT_RUNNING,
  OCF_RUNNING_PROMOTED,
  OCF_SUCCESS,
} from "./ocf-codes.js";
import { scriptOutcome } from "./script-outcome.js";

/** Parameters become environment variable names, so they must be valid ones. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ScriptAgentOptions {
  ref: AgentRef;
  file: string;
  /** Environment for one action; throws ParameterError for a parameter that cannot be passed. */
  environment(ctx: AgentContext, action: string): Record<string, string>;
  /** OCF agents must describe themselves; exec scripts may not. */
  metadataRequired: boolean;
}

export class ParameterError extends Error {}

export class ScriptAgent implements ResourceAgent {
  readonly ref: AgentRef;

  constructor(private readonly options: ScriptAgentOptions) {
    this.ref = options.ref;
  }

  start(ctx: AgentContext): Promise<ActionOutcome> {
    return this.action(ctx, "start");
  }

  async stop(ctx: AgentContext): Promise<ActionOutcome> {
    const outcome = await this.action(ctx, "stop");
    // OCF requires stop on a stopped resource to succeed; some agents answer "not running".
    return outcome.code === OCF_NOT_RUNNING ? { code: OCF_SUCCESS } : outcome;
  }

  promote(ctx: AgentContext): Promise<ActionOutcome> {
    return this.action(ctx, "promote");
  }

  demote(ctx: AgentContext): Promise<ActionOutcome> {
    return this.action(ctx, "demote");
  }

  notify(ctx: AgentContext): Promise<ActionOutcome> {
    return this.action(ctx, "notify");
  }

  async monitor(ctx: AgentContext): Promise<MonitorOutcome> {
    let stdout = "";
    const outcome = monitorFromCode(
      await this.action(ctx, "monitor", (output) => {
        stdout = output;
      }),
    );
    const promotionScore = promotionScoreIn(stdout);
    return promotionScore === undefined || outcome.state === "failed"
      ? outcome
      : { ...outcome, promotionScore };
  }

  async metaData(ctx: AgentContext): Promise<AgentMetadata> {
    const file = this.options.file;
    const process = await ctx.run({
      file,
      args: ["meta-data"],
      env: this.environmentOf(ctx, "meta-data"),
    });
    const outcome = scriptOutcome(process, file);
    if (outcome.code === OCF_SUCCESS) {
      try {
        return parseOcfMetadata(process.stdout);
      } catch (error) {
        if (this.options.metadataRequired) {
          throw new MetadataError(`${file} meta-data: ${(error as Error).message}`);
        }
      }
    } else if (this.options.metadataRequired) {
      throw new MetadataError(
        `${file} meta-data failed (exit ${outcome.code}${outcome.reason ? `: ${outcome.reason}` : ""})`,
      );
    }
    return {
      name: basename(file),
      parameters: [],
      actions: [],
      describesParameters: false,
    };
  }

  private async action(
    ctx: AgentContext,
    action: string,
    onStdout?: (stdout: string) => void,
  ): Promise<ActionOutcome> {
    let env: Record<string, string>;
    try {
      env = this.environmentOf(ctx, action);
    } catch (error) {
      if (error instanceof ParameterError)
        return { code: OCF_ERR_CONFIGURED, reason: error.message };
      throw error;
    }
    const file = this.options.file;
    const process = await ctx.run({ file, args: [action], env });
    onStdout?.(process.stdout);
    return scriptOutcome(process, file);
  }

  private environmentOf(ctx: AgentContext, action: string): Record<string, string> {
    return { ...this.options.environment(ctx, action), ...ctx.environment };
  }
}

/**
 * A monitor may print `promotion-score=N` (an integer) on a line of its own: Vigil's counterpart
 * of Pacemaker's crm_master, read for promotable clones. The last such line counts.
 */
export function promotionScoreIn(stdout: string): number | undefined {
  let score: number | undefined;
  for (const line of stdout.split("\n")) {
    const match = /^promotion-score=(-?\d{1,15})\s*$/.exec(line);
    if (match) score = Number(match[1]);
  }
  return score;
}

export function monitorFromCode(outcome: ActionOutcome): MonitorOutcome {
  switch (outcome.code) {
    case OCF_SUCCESS:
      return { state: "running" };
    case OCF_RUNNING_PROMOTED:
      return { state: "running_promoted" };
    case OCF_NOT_RUNNING:
      return { state: "not_running" };
    case OCF_FAILED_PROMOTED:
      return {
        state: "failed",
        code: outcome.code,
        reason: outcome.reason ?? "failed while promoted",
      };
    default:
      return { state: "failed", code: outcome.code, reason: outcome.reason ?? "monitor failed" };
  }
}

/** OCF_RESKEY_<name>=value for each parameter, keeping the name's case as OCF does. */
export function ocfParameterEnvironment(
  ctx: Pick<AgentContext, "resourceId" | "params">,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.params)) {
    if (!PARAM_NAME.test(name)) {
      throw new ParameterError(
        `parameter "${name}" of resource ${ctx.resourceId} cannot be passed in the environment: use letters, digits and _`,
      );
    }
    env[`OCF_RESKEY_${name}`] = value;
  }
  return env;
}
