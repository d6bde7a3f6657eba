import type { Clock } from "../agent/clock.js";
import type { SubmitResult } from "../coordination/cluster-message.js";
import { submitUntilCommitted } from "../coordination/submit-until-committed.js";
import type { Logger } from "../log/logger.js";
import type { Command } from "../state/commands.js";

export interface FenceResult {
  ok: boolean;
  action: "reboot" | "off";
  devices: string[];
  detail: string;
}

export interface NodeFencerOptions {
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** How long to wait before fencing `node` (fencing.delay_ms: the one that should win a race). */
  delayMs(node: string): number;
  /** Runs the node's fence levels. */
  fence(node: string): Promise<FenceResult>;
  submit(command: Command): Promise<SubmitResult>;
  /** A fence succeeded, before it is recorded (two-node mode: the peer's vote stands in). */
  onFenced?(node: string): void;
}

/** How long to keep trying to record a fence's outcome (elections take well under this). */
const RECORD_FENCE_FOR_MS = 30_000;
const RECORD_RETRY_MS = 100;
/** After a failed fence, try again this much later (it is logged and shown each time). */
export const FENCE_RETRY_MS = 10_000;

export type FenceRequest =
  | { started: true }
  /** Being fenced already, or fenced and not heard from since: nothing more to do now. */
  | { started: false; reason: "in_progress" | "already_fenced" }
  /** The last attempt failed: ask again after this long. */
  | { started: false; reason: "retry_later"; retryInMs: number };

/**
 * Fences lost nodes and commits each outcome (node_fenced), for whoever asks: the leader's
 * placement loop, the two-node survivor. One fence per node at a time; a node fenced and not
 * heard from since is not shot again (a reboot of a node that is off would power it on), only
 * its outcome recorded again if that never committed; a failure may be retried after
 * FENCE_RETRY_MS, never given up.
 */
export class NodeFencer {
  private readonly inProgress = new Set<string>();
  private readonly retryAtMs = new Map<string, number>();
  /** Fenced, not heard from since; and whether the outcome is committed. */
  private readonly fenced = new Map<string, { result: FenceResult; recorded: boolean }>();
  private stopped = false;

  constructor(private readonly options: NodeFencerOptions) {}

  /**
   * Fences `node` after its delay, unless `stillWanted()` turns false meanwhile (it came back,
   * this node stopped leading); `done` runs when the attempt is over, whatever its outcome.
   */
  request(node: string, stillWanted: () => boolean, done: () => void = () => {}): FenceRequest {
    if (this.stopped || this.inProgress.has(node)) return { started: false, reason: "in_progress" };
    const fenced = this.fenced.get(node);
    if (fenced?.recorded === true) return { started: false, reason: "already_fenced" };
    const nowMs = this.options.clock.nowMs();
    const retryAtMs = this.retryAtMs.get(node) ?? 0;
    if (fenced === undefined && nowMs < retryAtMs) {
      return { started: false, reason: "retry_later", retryInMs: retryAtMs - nowMs };
    }
    this.inProgress.add(node);
    void this.fenceAndRecord(node, fenced?.result ?? null, stillWanted).finally(() => {
      this.inProgress.delete(node);
      done();
    });
    return { started: true };
  }

  /** Membership heard `node` (a new run): a later loss is a new fence. */
  noticeUp(node: string): void {
    this.fenced.delete(node);
  }

  /** Fenced, and not heard from since. */
  isFenced(node: string): boolean {
    return this.fenced.has(node);
  }

  stop(): void {
    this.stopped = true;
  }

  private async fenceAndRecord(
    node: string,
    earlier: FenceResult | null,
    stillWanted: () => boolean,
  ): Promise<void> {
    const { logger } = this.options;
    try {
      let result = earlier;
      if (result === null) {
        const delayMs = this.options.delayMs(node);
        logger.warn({ target: node, delayMs }, "fencing lost node");
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (this.stopped || !stillWanted()) return;
        result = await this.options.fence(node);
        (result.ok ? logger.warn : logger.error).call(
          logger,
          { target: node, ...result },
          result.ok ? "node fenced" : "FENCING FAILED",
        );
        if (result.ok) {
          this.fenced.set(node, { result, recorded: false });
          this.options.onFenced?.(node);
        } else {
          this.retryAtMs.set(node, this.options.clock.nowMs() + FENCE_RETRY_MS);
        }
      }
      await this.record(node, result);
    } catch (error) {
      logger.error({ target: node, err: error }, "fencing failed");
      this.retryAtMs.set(node, this.options.clock.nowMs() + FENCE_RETRY_MS);
    }
  }

  /**
   * The outcome must be recorded even if leadership changes meanwhile: a fenced node is off,
   * and only the record lets its resources run elsewhere.
   */
  private async record(node: string, result: FenceResult): Promise<void> {
    const command: Command = {
      type: "node_fenced",
      node,
      ok: result.ok,
      action: result.action,
      devices: result.devices,
      detail: result.detail.slice(0, 1000),
      by: `policy@${this.options.nodeName}`,
      atMs: Math.round(this.options.clock.nowMs()),
    };
    const recorded = await submitUntilCommitted(() => this.options.submit(command), {
      forMs: RECORD_FENCE_FOR_MS,
      retryMs: RECORD_RETRY_MS,
    });
    if (!recorded.ok) {
      this.options.logger.error(
        { target: node, err: recorded.error },
        "fence outcome not recorded",
      );
      return;
    }
    const fenced = this.fenced.get(node);
    if (result.ok && fenced !== undefined) fenced.recorded = true;
  }
}
