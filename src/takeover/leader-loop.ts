import type { Clock } from "../agent/clock.js";
import type { SubmitResult } from "../coordination/cluster-message.js";
import { submitUntilCommitted } from "../coordination/submit-until-committed.js";
import type { Logger } from "../log/logger.js";
import type { PolicyInput } from "../policy/types.js";
import type { Command } from "../state/commands.js";
import type { ClusterState } from "../state/types.js";
import { decideLeaderStep, type LeaderStep } from "./leader-step.js";

/** While a lost node's lease runs out, look again this often (a small part of the lease). */
const LEASE_RECHECK_MS = 20;
/** After a step was not committed (no quorum for a moment, say). */
const RETRY_MS = 100;
/** Failure timeouts expire with time alone: look again at least this often. */
const RECHECK_MS = 10_000;

export interface LeaderLoopOptions {
  nodeName: string;
  clock: Clock;
  logger: Logger;
  isLeader(): boolean;
  state(): ClusterState;
  policyInput(state: ClusterState): PolicyInput;
  leaseSurelyExpired(node: string): boolean;
  /** Membership: the node's agent is heard. */
  isUp(node: string): boolean;
  submit(command: Command): Promise<SubmitResult>;
  /** When fencing is enabled: how to fence a node, and how long to wait first. */
  fencing?: {
    delayMs(node: string): number;
    fence(node: string): Promise<FenceResult>;
  };
}

export interface FenceResult {
  ok: boolean;
  action: "reboot" | "off";
  devices: string[];
  detail: string;
}

/** How long to keep trying to record a fence's outcome (elections take well under this). */
const RECORD_FENCE_FOR_MS = 30_000;
/** After a failed fence, try again this much later (it is logged and shown each time). */
const FENCE_RETRY_MS = 10_000;

/**
 * Runs decideLeaderStep whenever something changed, on the leader only, one decision in flight
 * at a time. Each decision is compare-and-set on the state version it was made from, so one made
 * from a view that has since changed is refused and made again.
 */
export class LeaderLoop {
  private running = false;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastStep: LeaderStep | null = null;
  /** Nodes being fenced, and when a failed fence may be tried again. */
  private readonly fencing = new Set<string>();
  private readonly fenceRetryAtMs = new Map<string, number>();

  constructor(private readonly options: LeaderLoopOptions) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
    });
  }

  /** The last decision's policy view (for status and `vigil explain`), if this node leads. */
  last(): LeaderStep | null {
    return this.options.isLeader() ? this.lastStep : null;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    do {
      this.dirty = false;
      if (this.stopped || !this.options.isLeader()) return;
      const state = this.options.state();
      let step: LeaderStep;
      try {
        step = decideLeaderStep({
          state,
          input: this.options.policyInput(state),
          leaseSurelyExpired: (node) => this.options.leaseSurelyExpired(node),
          fencing: this.options.fencing !== undefined,
          isUp: (node) => this.options.isUp(node),
          by: `policy@${this.options.nodeName}`,
          atMs: Math.round(this.options.clock.nowMs()),
        });
      } catch (error) {
        this.options.logger.error({ err: error }, "placement could not be computed");
        this.recheckIn(RECHECK_MS);
        return;
      }
      this.lastStep = step;
      for (const node of step.toFence) this.startFencing(node);
      for (const command of step.commands) {
        this.options.logger.info({ command }, "placement step");
        const result = await this.options.submit(command);
        if (!result.ok) {
          // Usually the state moved on (compare-and-set): that change kicks us again anyway.
          this.options.logger.debug({ err: result.error }, "placement step not committed");
          this.recheckIn(RETRY_MS);
          return;
        }
      }
      this.recheckIn(step.waitingForLease.length > 0 ? LEASE_RECHECK_MS : RECHECK_MS);
    } while (this.dirty);
  }

  /**
   * Fences a lost node (after its configured delay), then commits the outcome: success releases
   * its resources. One fence per node at a time; a failure is retried later, never given up.
   */
  private startFencing(node: string): void {
    const fencing = this.options.fencing;
    if (fencing === undefined || this.fencing.has(node)) return;
    const nowMs = this.options.clock.nowMs();
    const retryAtMs = this.fenceRetryAtMs.get(node) ?? 0;
    if (nowMs < retryAtMs) {
      this.recheckIn(retryAtMs - nowMs);
      return;
    }
    this.fencing.add(node);
    const delayMs = fencing.delayMs(node);
    this.options.logger.warn({ target: node, delayMs }, "fencing lost node");
    void (async () => {
      try {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (this.stopped || !this.options.isLeader() || this.options.isUp(node)) return;
        const result = await fencing.fence(node);
        const log = result.ok ? this.options.logger.warn : this.options.logger.error;
        log.call(
          this.options.logger,
          { target: node, ...result },
          result.ok ? "node fenced" : "FENCING FAILED",
        );
        if (!result.ok) this.fenceRetryAtMs.set(node, this.options.clock.nowMs() + FENCE_RETRY_MS);
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
        // The outcome must be recorded even if leadership changes meanwhile: a fenced node is
        // off, and only the record lets its resources run elsewhere.
        const recorded = await submitUntilCommitted(() => this.options.submit(command), {
          forMs: RECORD_FENCE_FOR_MS,
          retryMs: RETRY_MS,
        });
        if (!recorded.ok) {
          this.options.logger.error(
            { target: node, err: recorded.error },
            "fence outcome not recorded",
          );
        }
      } catch (error) {
        this.options.logger.error({ target: node, err: error }, "fencing failed");
        this.fenceRetryAtMs.set(node, this.options.clock.nowMs() + FENCE_RETRY_MS);
      } finally {
        this.fencing.delete(node);
        this.kick();
      }
    })();
  }

  private recheckIn(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, ms);
  }
}
