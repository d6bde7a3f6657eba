import type { OperationRunner } from "../resources/executor/operation.js";
import { GuardFeed, type GuardFeedInput } from "../watchdog/guard-feed.js";
import {
  formatGuardLine,
  type GuardDecision,
  type GuardMessage,
  GuardState,
  type HeldResource,
} from "../watchdog/guard-protocol.js";
import { releaseHeld } from "../watchdog/release.js";
import type { HostClock, World } from "./world.js";

export interface SimGuardOptions {
  world: World;
  /** The host's clock, which the guard reads. */
  clock: HostClock;
  hangMs: number;
  /** Stops held resources on the host (the guard's own executor: it never pauses). */
  runner: OperationRunner;
  /** The guard decided to release: the agent run must end now. */
  killAgent(reason: string): void;
  /** The release could not stop everything in time: the node fences itself. */
  selfFence(reason: string): void;
  trace(line: string): void;
}

/** The longest pause between feeds while something is held (as the agent's guard link). */
const MAX_FEED_INTERVAL_MS = 100;

/**
 * One agent run's node guard, simulated with the real parts: the agent side composes its lines
 * with GuardFeed (as src/agent/guard-link.ts does), the guard side decides with GuardState and
 * stops with releaseHeld (as src/watchdog/guard.ts does). The guard runs on the world's time: a
 * paused agent stops feeding it, the guard does not stop watching.
 */
export class SimGuard {
  private readonly feeder = new GuardFeed();
  private readonly state: GuardState;
  private checkToken = 0;
  private done = false;
  /** Called once a release begun has ended (or the host lost power meanwhile). */
  private releaseEnded: (() => void) | null = null;
  private releasingNow = false;

  constructor(private readonly options: SimGuardOptions) {
    this.state = new GuardState({ hangMs: options.hangMs });
  }

  /** How often the agent run feeds its guard. */
  get feedIntervalMs(): number {
    return Math.max(1, Math.min(MAX_FEED_INTERVAL_MS, Math.floor(this.options.hangMs / 4)));
  }

  hold(resource: HeldResource, leaseRemainingMs: number | null): void {
    this.tell(this.feeder.hold(resource, leaseRemainingMs, this.options.clock.nowMs()));
  }

  feed(input: GuardFeedInput): void {
    this.tell(this.feeder.feed(input, this.options.clock.nowMs()));
  }

  /** The agent run ended without a clean stop (killed, crashed): the guard sees its pipe close. */
  agentGone(): void {
    if (this.done) return;
    this.decide(this.state.eof(this.options.clock.nowMs()));
  }

  /** The host lost power: the guard is gone with it. */
  powerOff(): void {
    this.done = true;
    this.endRelease();
  }

  /** Still stopping what its run held (src/watchdog/previous-guard.ts: a new run waits). */
  get releasing(): boolean {
    return this.releasingNow;
  }

  /** `then` runs once the release under way has ended; at once if none is. */
  whenReleased(then: () => void): void {
    if (!this.releasingNow) {
      then();
      return;
    }
    const before = this.releaseEnded;
    this.releaseEnded = () => {
      before?.();
      then();
    };
  }

  private endRelease(): void {
    if (!this.releasingNow) return;
    this.releasingNow = false;
    const ended = this.releaseEnded;
    this.releaseEnded = null;
    ended?.();
  }

  private tell(messages: readonly GuardMessage[]): void {
    if (this.done) return;
    const nowMs = this.options.clock.nowMs();
    for (const message of messages) {
      const decision = this.state.input(formatGuardLine(nowMs, message), nowMs);
      if (decision.error !== undefined) throw new Error(`guard line refused: ${decision.error}`);
      this.decide(decision);
      if (this.done) return;
    }
  }

  private decide(decision: GuardDecision): void {
    if (this.done) return;
    const { world, clock } = this.options;
    switch (decision.kind) {
      case "watch": {
        const token = ++this.checkToken;
        if (decision.wakeAtMs !== null) {
          world.at(clock.worldTimeAt(decision.wakeAtMs), () => {
            if (token === this.checkToken && !this.done)
              this.decide(this.state.check(clock.nowMs()));
          });
        }
        return;
      }
      case "exit":
        this.done = true;
        return;
      case "release":
        this.done = true;
        this.releasingNow = true;
        this.options.trace(`guard releases (${decision.cause}): ${decision.reason}`);
        this.options.killAgent(`its guard released the node (${decision.cause})`);
        void releaseHeld({
          held: decision.held,
          releaseByMs: decision.releaseByMs,
          clock: () => clock.nowMs(),
          log: () => {},
          executor: this.options.runner,
        }).then((outcome) => {
          if (outcome.ok) this.options.trace("guard stopped everything it held");
          else this.options.selfFence(outcome.problems.join("; "));
          this.endRelease();
        });
        return;
    }
  }
}
