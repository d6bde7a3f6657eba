import type { SubmitResult } from "../coordination/cluster-message.js";
import { submitUntilCommitted } from "../coordination/submit-until-committed.js";
import { systemTimers, type Timers } from "../coordination/timers.js";
import type { Logger } from "../log/logger.js";
import type { Command } from "../state/commands.js";
import { FENCE_ATTEMPTS_LIMIT } from "../state/types.js";
import type { Clock } from "../time/clock.js";
import { attemptLine, type FenceResult } from "./fence-report.js";

export type { FenceResult } from "./fence-report.js";

export interface NodeFencerOptions {
  nodeName: string;
  clock: Clock;
  /** Real timers unless given: a test or simulator passes virtual ones that follow `clock`. */
  timers?: Timers;
  logger: Logger;
  /** How long to wait before fencing `node` (fencing.delay_ms: the one that should win a race). */
  delayMs(node: string): number;
  /** Runs the node's fence levels; never throws (FenceRunner reports failures as attempts). */
  fence(node: string): Promise<FenceResult>;
  submit(command: Command): Promise<SubmitResult>;
  /** A fence succeeded, before it is recorded (two-node mode: the peer's vote stands in). */
  onFenced?(node: string): void;
  /**
   * The node's agent run the replicated state knows now (null: none probed). Taken as a fence
   * begins and recorded with it: a run that probed after that is not released by it.
   */
  runOf?(node: string): number | null;
}

/**
 * How long to keep trying to record a fence's outcome (elections take well under this; fencing
 * the leader starts one).
 */
const RECORD_FENCE_FOR_MS = 30_000;
const RECORD_RETRY_MS = 100;
/** After a failed fence, try again this much later (it is logged and shown each time). */
export const FENCE_RETRY_MS = 10_000;

/** What a fence request got: the operation it started or joined, and that operation's record. */
export interface FenceOperation {
  result: FenceResult;
  /** Who started the operation: `policy@NODE` for a lost node, or the operator who asked first. */
  by: string;
  /** This request joined an operation already running for the node, and shares its result. */
  joined: boolean;
  /** The node_fenced record of the operation: committed at `version`, or why not. */
  recorded: { ok: true; version: number } | { ok: false; error: string };
}

export type FenceRequest =
  | { started: true }
  /** Being fenced already, or fenced and not heard from since: nothing more to do now. */
  | { started: false; reason: "in_progress" | "already_fenced" }
  /** The last attempt failed: ask again after this long. */
  | { started: false; reason: "retry_later"; retryInMs: number };

/**
 * Fences nodes and commits each outcome (node_fenced), for whoever asks: the leader's placement
 * loop and the two-node survivor (a lost node, after its delay), and operators (`vigil fence`,
 * at once). One fence operation per node at a time: a request while one runs joins it and gets
 * its result, so a BMC is never driven by two agent runs at once. Every operation is logged,
 * one line per agent run and one for its outcome, whoever asked. A node fenced and not heard from
 * since is not shot again for being lost (a reboot of a node that is off would power it on),
 * only its outcome recorded again if that never committed; a failure may be retried after
 * FENCE_RETRY_MS, never given up.
 */
export class NodeFencer {
  /** Lost nodes whose fence was requested and is not over (its delay included). */
  private readonly requested = new Set<string>();
  /** The fence operation running for each node (fence, then record). */
  private readonly running = new Map<string, Promise<FenceOperation>>();
  private readonly retryAtMs = new Map<string, number>();
  /** Fenced, not heard from since; and whether the outcome is committed. */
  private readonly fenced = new Map<
    string,
    { result: FenceResult; recorded: boolean; run: number | null | undefined }
  >();
  private stopped = false;
  private readonly timers: Timers;

  constructor(private readonly options: NodeFencerOptions) {
    this.timers = options.timers ?? systemTimers;
  }

  /**
   * A lost node (or, with a `reason`, one that asked to be fenced): fences it after its delay, unless
   * `stillWanted()` turns false meanwhile (it came back, this node stopped leading); `done` runs
   * when the attempt is over, whatever its outcome.
   */
  request(
    node: string,
    stillWanted: () => boolean,
    done: () => void = () => {},
    reason?: string,
  ): FenceRequest {
    if (this.stopped || this.requested.has(node)) return { started: false, reason: "in_progress" };
    const fenced = this.fenced.get(node);
    if (fenced?.recorded === true) return { started: false, reason: "already_fenced" };
    const nowMs = this.options.clock.nowMs();
    const retryAtMs = this.retryAtMs.get(node) ?? 0;
    if (fenced === undefined && nowMs < retryAtMs) {
      return { started: false, reason: "retry_later", retryInMs: retryAtMs - nowMs };
    }
    this.requested.add(node);
    void this.fenceLostNode(node, stillWanted, reason).finally(() => {
      this.requested.delete(node);
      done();
    });
    return { started: true };
  }

  /**
   * An operator's fence (`vigil fence NODE`, recorded as `by`): at once, whatever the node's
   * state, or joined to the operation already running for it.
   */
  fenceNow(node: string, by: string): Promise<FenceOperation> {
    return this.operate(node, by);
  }

  /**
   * An operator made sure `node` is off (`vigil fence confirm`, for sites without a device):
   * recorded like a fence, which lets its resources run elsewhere.
   */
  confirmDown(node: string, by: string): Promise<FenceOperation["recorded"]> {
    this.options.logger.warn({ target: node, by }, `node ${node} confirmed down by ${by}`);
    // Two-node mode: the peer is off, so its vote stands in (else nothing could commit).
    this.options.onFenced?.(node);
    const detail = `confirmed down by ${by}`;
    return this.record(
      node,
      { ok: true, action: "confirm", devices: [], detail, attempts: [] },
      by,
      this.options.runOf?.(node),
    );
  }

  /** Membership heard `node` (a new run): a later loss is a new fence. */
  noticeUp(node: string): void {
    this.fenced.delete(node);
  }

  /** Fenced, and not heard from since. */
  isFenced(node: string): boolean {
    return this.fenced.has(node);
  }

  /** A fence operation is running, for any node. */
  busy(): boolean {
    return this.running.size > 0;
  }

  stop(): void {
    this.stopped = true;
  }

  private async fenceLostNode(
    node: string,
    stillWanted: () => boolean,
    reason: string | undefined,
  ): Promise<void> {
    const { logger } = this.options;
    const by = `policy@${this.options.nodeName}`;
    try {
      const fenced = this.fenced.get(node);
      if (fenced !== undefined) {
        // Fenced before, the record never committed: record it, do not shoot again.
        await this.record(node, fenced.result, by, fenced.run);
        return;
      }
      const delayMs = this.options.delayMs(node);
      logger.warn(
        { target: node, delayMs, reason },
        reason === undefined ? "fencing lost node" : `fencing node ${node}: ${reason}`,
      );
      if (delayMs > 0) await this.sleep(delayMs);
      if (this.stopped || !stillWanted()) return;
      // An operator may have fenced it meanwhile.
      if (this.fenced.get(node)?.recorded === true) return;
      await this.operate(node, by);
    } catch (error) {
      logger.error({ target: node, err: error }, "fencing failed");
      this.retryAtMs.set(node, this.options.clock.nowMs() + FENCE_RETRY_MS);
    }
  }

  /** Starts the node's fence operation, or joins the one running. */
  private operate(node: string, by: string): Promise<FenceOperation> {
    const running = this.running.get(node);
    if (running !== undefined) {
      this.options.logger.warn(
        { target: node, requestedBy: by },
        `a fence of ${node} is running already: the request of ${by} joins it`,
      );
      return running.then((operation) => ({ ...operation, joined: true }));
    }
    const operation = this.fenceAndRecord(node, by).finally(() => this.running.delete(node));
    this.running.set(node, operation);
    return operation;
  }

  private async fenceAndRecord(node: string, by: string): Promise<FenceOperation> {
    const { logger } = this.options;
    logger.warn({ target: node, by }, `fencing ${node} (asked by ${by})`);
    const run = this.options.runOf?.(node);
    const result = await this.options.fence(node);
    for (const { level, ...attempt } of result.attempts) {
      // `level` is pino's own field: the fence level goes by another name.
      (attempt.ok ? logger.info : logger.warn).call(
        logger,
        { target: node, by, fenceLevel: level, ...attempt },
        `fence of ${node}: ${attemptLine({ level, ...attempt })}`,
      );
    }
    const fields = {
      target: node,
      by,
      ok: result.ok,
      action: result.action,
      devices: result.devices,
    };
    if (result.ok) {
      logger.warn({ ...fields, detail: result.detail }, `node ${node} fenced: ${result.detail}`);
      this.fenced.set(node, { result, recorded: false, run });
      this.options.onFenced?.(node);
    } else {
      logger.error(
        { ...fields, detail: result.detail },
        `FENCING ${node} FAILED: ${result.detail}`,
      );
      this.retryAtMs.set(node, this.options.clock.nowMs() + FENCE_RETRY_MS);
    }
    return { result, by, joined: false, recorded: await this.record(node, result, by, run) };
  }

  /**
   * The outcome must be recorded even if leadership changes meanwhile: a fenced node is off,
   * and only the record lets its resources run elsewhere.
   */
  private async record(
    node: string,
    result: Omit<FenceResult, "action"> & { action: FenceResult["action"] | "confirm" },
    by: string,
    run: number | null | undefined,
  ): Promise<FenceOperation["recorded"]> {
    const command: Command = {
      type: "node_fenced",
      node,
      ...(run === undefined ? {} : { run }),
      ok: result.ok,
      action: result.action,
      devices: result.devices,
      detail: result.detail,
      ...(result.attempts.length === 0
        ? {}
        : { attempts: result.attempts.slice(0, FENCE_ATTEMPTS_LIMIT) }),
      by,
      atMs: Math.round(this.options.clock.nowMs()),
    };
    const recorded = await submitUntilCommitted(() => this.options.submit(command), {
      forMs: RECORD_FENCE_FOR_MS,
      retryMs: RECORD_RETRY_MS,
      clock: this.options.clock,
      sleep: (ms) => this.sleep(ms),
    });
    if (!recorded.ok) {
      this.options.logger.error(
        { target: node, err: recorded.error },
        "fence outcome not recorded",
      );
      return { ok: false, error: recorded.error };
    }
    const fenced = this.fenced.get(node);
    if (result.ok && fenced !== undefined) fenced.recorded = true;
    return { ok: true, version: recorded.version };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.after(ms, resolve));
  }
}
