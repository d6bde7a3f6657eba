import type { SubmitResult } from "../coordination/cluster-message.js";
import { systemTimers, type Timers } from "../coordination/timers.js";
import type { NodeFencer } from "../fencing/node-fencer.js";
import type { Logger } from "../log/logger.js";
import type { PolicyInput } from "../policy/types.js";
import type { Command } from "../state/commands.js";
import type { ClusterState } from "../state/types.js";
import type { Clock } from "../time/clock.js";
import { decideLeaderStep, fenceRequestOf, type LeaderStep } from "./leader-step.js";
import { ReadyActionsMemo } from "./placement-memo.js";

/** While a lost node's lease runs out, look again this often (a small part of the lease). */
const LEASE_RECHECK_MS = 20;
/** After a step was not committed (no quorum for a moment, say). */
const RETRY_MS = 100;
/** Failure timeouts expire with time alone: look again at least this often. */
const RECHECK_MS = 10_000;

export interface LeaderLoopOptions {
  nodeName: string;
  clock: Clock;
  /** Real timers unless given: a test or simulator passes virtual ones that follow `clock`. */
  timers?: Timers;
  logger: Logger;
  isLeader(): boolean;
  state(): ClusterState;
  /** The policy engine's input: a function of the state, the nodes' views and the time. */
  policyInput(state: ClusterState): PolicyInput;
  leaseSurelyExpired(node: string): boolean;
  /** Membership: the node's agent is heard. */
  isUp(node: string): boolean;
  submit(command: Command): Promise<SubmitResult>;
  /** When fencing is enabled: fences lost nodes and records the outcomes. */
  fencer?: NodeFencer;
  /**
   * Leadership to another node: this node asked to be fenced (on_fail fence), and a node does
   * not fence itself (the outcome could never be recorded).
   */
  handOverLeadership?(): Promise<void>;
}

/**
 * Runs decideLeaderStep whenever something changed, on the leader only, one decision in flight
 * at a time. Each decision is compare-and-set on the state version it was made from, so one made
 * from a view that has since changed is refused and made again.
 */
export class LeaderLoop {
  private running = false;
  private dirty = false;
  private readonly timers: Timers;
  /** Cancels the timer of the next look (recheckIn), or null when none is set. */
  private cancelRecheck: (() => void) | null = null;
  private stopped = false;
  private lastStep: LeaderStep | null = null;
  private handingOver = false;
  private readonly placements = new ReadyActionsMemo();

  constructor(private readonly options: LeaderLoopOptions) {
    this.timers = options.timers ?? systemTimers;
  }

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
    this.cancelRecheck?.();
    this.cancelRecheck = null;
  }

  private async run(): Promise<void> {
    do {
      this.dirty = false;
      if (this.stopped || !this.options.isLeader()) return;
      const state = this.options.state();
      let step: LeaderStep;
      try {
        const input = this.options.policyInput(state);
        step = decideLeaderStep({
          state,
          input,
          placement: this.placements.readyActions(state, input),
          leaseSurelyExpired: (node) => this.options.leaseSurelyExpired(node),
          fencing: this.options.fencer !== undefined,
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
          this.options.logger.debug({ err: result.error }, "placement step not committed");
          // Usually the state moved on (compare-and-set: a report, a hook's progress): its
          // change kicked us while we waited, so decide again now rather than after a pause.
          if (this.dirty) break;
          this.recheckIn(RETRY_MS);
          return;
        }
      }
      if (!this.dirty) {
        const base = step.waitingForLease.length > 0 ? LEASE_RECHECK_MS : RECHECK_MS;
        // A notification round stops waiting for silent copies at its deadline.
        const untilDeadline =
          step.recheckAtMs === undefined
            ? base
            : Math.max(1, step.recheckAtMs - Math.round(this.options.clock.nowMs()));
        this.recheckIn(Math.min(base, untilDeadline));
      }
    } while (this.dirty);
  }

  /**
   * A lost node, or one whose run asked to be fenced, is fenced (NodeFencer, after its delay); its
   * recorded outcome kicks us again.
   */
  private startFencing(node: string): void {
    const fencer = this.options.fencer;
    if (fencer === undefined) return;
    const requested = fenceRequestOf(this.options.state(), node);
    if (node === this.options.nodeName) {
      this.handOverToBeFenced(requested?.reason);
      return;
    }
    const request = fencer.request(
      node,
      () =>
        !this.stopped &&
        this.options.isLeader() &&
        (!this.options.isUp(node) || fenceRequestOf(this.options.state(), node) !== undefined),
      () => this.kick(),
      requested === undefined ? undefined : `it asked to be fenced: ${requested.reason}`,
    );
    if (!request.started && request.reason === "retry_later") this.recheckIn(request.retryInMs);
  }

  private handOverToBeFenced(reason: string | undefined): void {
    const handOver = this.options.handOverLeadership;
    if (handOver === undefined || this.handingOver) return;
    this.handingOver = true;
    this.options.logger.warn(
      { reason },
      "this node is to be fenced: handing leadership over, so that another node fences it",
    );
    void handOver()
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, "leadership not handed over"),
      )
      .finally(() => {
        this.handingOver = false;
        // Still leading (nobody could take over): try again later.
        this.recheckIn(RETRY_MS);
      });
  }

  private recheckIn(ms: number): void {
    this.cancelRecheck?.();
    this.cancelRecheck = this.timers.after(ms, () => {
      this.cancelRecheck = null;
      this.kick();
    });
  }
}
