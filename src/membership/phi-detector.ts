import { IntervalWindow } from "./interval-window.js";
import type { LinkDetector } from "./link-detector.js";
import { nextVerdictChangeAtMs, silenceVerdict } from "./silence-thresholds.js";
import type { MembershipTiming, PhiDetectorSettings } from "./timing.js";
import type { LinkState } from "./types.js";

/**
 * Logistic approximation of the standard normal CDF used by Akka and Cassandra:
 * Φ(y) ≈ 1 / (1 + exp(-(1.5976·y + 0.070566·y³))), max error about 1.4e-4.
 */
const LOGISTIC_LINEAR = 1.5976;
const LOGISTIC_CUBIC = 0.070566;

/**
 * phi = -log10(P(the next heartbeat comes later than elapsedMs)) for arrivals ~ N(mean, std).
 *
 * With a = 1.5976·y + 0.070566·y³, P(later) ≈ 1 - Φ(y) = 1 / (1 + e^a), so phi = log10(1 + e^a),
 * i.e. softplus(a)/ln 10. Akka computes e^-a and takes log10(e/(1+e)), which underflows to
 * -log10(0) = Infinity once a passes ~745 (about 20 standard deviations): a stable softplus keeps
 * phi finite and strictly increasing in elapsed time (a is strictly increasing in y because its
 * derivative 1.5976 + 3·0.070566·y² is positive), so "phi > threshold" is the same as "elapsed >
 * one precomputed time", which is what lets the agent set a single exact timer.
 */
export function phiOf(elapsedMs: number, meanMs: number, stdMs: number): number {
  const y = (elapsedMs - meanMs) / stdMs;
  const a = y * (LOGISTIC_LINEAR + LOGISTIC_CUBIC * y * y);
  const phi = softplus(a) / Math.LN10;
  return Number.isFinite(phi) ? phi : Number.MAX_VALUE;
}

/** The elapsed time at which phi reaches `phi`: the exact inverse of phiOf. */
export function elapsedAtPhi(phi: number, meanMs: number, stdMs: number): number {
  if (!(phi > 0)) return Number.NEGATIVE_INFINITY; // phi is always > 0: already exceeded
  // softplus(a) = phi·ln10  ⇔  a = ln(10^phi − 1), written so that large phi cannot overflow.
  const a = phi * Math.LN10 + Math.log1p(-(10 ** -phi));
  // Solve y³ + p·y + q = 0 with p > 0: one real root, given in closed form by the hyperbolic
  // method (free of the cancellation of Cardano's formula near q = 0).
  const p = LOGISTIC_LINEAR / LOGISTIC_CUBIC;
  const q = -a / LOGISTIC_CUBIC;
  const y =
    -2 * Math.sqrt(p / 3) * Math.sinh(Math.asinh(((3 * q) / (2 * p)) * Math.sqrt(3 / p)) / 3);
  return meanMs + y * stdMs;
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * Phi-accrual failure detector (Hayashibara et al. 2004, as in Akka and Cassandra): learns the
 * inter-arrival distribution of one peer on one link and expresses silence as a probability, so
 * a jittery or lossy link is given more slack and a steady one is judged quickly.
 *
 * HARD CAP: whatever it has learnt, a link is down at the latest after deadtime_ms of silence.
 * deadtime_ms is the operator's promise ("silence after which a node is declared dead", the
 * number failover times are planned and validated against); an adaptive timeout without a cap
 * lets a degrading or flapping link teach the detector to tolerate ever longer silences, making
 * detection time unbounded exactly when the network is bad. Phi may therefore only detect
 * earlier than the fixed detector, never later. (A cap of max(deadtime_ms, something learnt)
 * would reintroduce that unbounded tail; config validation keeps deadtime_ms ≥ 2 × keepalive_ms,
 * so the cap never fires on a healthy link.) Late is capped the same way: never after down.
 */
export class PhiAccrualDetector implements LinkDetector {
  private readonly intervals: IntervalWindow;
  private lastHeardMs: number | null = null;
  /** False right after a reset or rebase: the next interval would not be an inter-arrival time. */
  private sampleNextInterval = false;
  private meanMs = 0;
  private stdMs = 1;
  private lateAfterMs = 0;
  private downAfterMs = 0;

  constructor(
    private readonly config: PhiDetectorSettings,
    private readonly timing: MembershipTiming,
  ) {
    if (!(timing.keepalive_ms > 0) || !(timing.deadtime_ms > 0)) {
      throw new RangeError(
        `phi detector: keepalive_ms and deadtime_ms must be > 0, got ${timing.keepalive_ms} and ` +
          `${timing.deadtime_ms}; fix the timing section`,
      );
    }
    if (!(config.min_std_ms > 0)) {
      throw new RangeError(
        `phi detector: min_std_ms must be > 0, got ${config.min_std_ms}; fix detector.min_std_ms`,
      );
    }
    this.intervals = new IntervalWindow(config.window_size);
    this.refresh();
  }

  heard(nowMs: number): void {
    if (this.lastHeardMs !== null && nowMs < this.lastHeardMs) return; // out of order: keep the later one
    if (this.lastHeardMs !== null && this.sampleNextInterval) {
      const intervalMs = nowMs - this.lastHeardMs;
      // An interval past the deadtime measures an outage (a pause, a cable pulled, a restart),
      // not the arrival process: learning it would stretch the tolerance up to the cap for
      // window_size heartbeats, the opposite of what a returning link needs. Intervals between
      // the current down threshold and the deadtime ARE learnt: that is how the detector adapts
      // to a slower or noisier sender instead of flapping on every heartbeat.
      if (intervalMs <= this.timing.deadtime_ms) {
        this.intervals.push(intervalMs);
        this.refresh();
      }
    }
    this.lastHeardMs = nowMs;
    this.sampleNextInterval = true;
  }

  state(nowMs: number): LinkState {
    if (this.lastHeardMs === null) return "down";
    // Equivalent to comparing phi with phi_warn / phi_threshold (phi is strictly increasing in
    // the silence), but exactly consistent with nextChangeAtMs.
    return silenceVerdict(nowMs - this.lastHeardMs, this.lateAfterMs, this.downAfterMs);
  }

  nextChangeAtMs(nowMs: number): number {
    if (this.lastHeardMs === null) return Number.POSITIVE_INFINITY;
    return nextVerdictChangeAtMs(
      this.lastHeardMs,
      nowMs - this.lastHeardMs,
      this.lateAfterMs,
      this.downAfterMs,
    );
  }

  suspicion(nowMs: number): number {
    if (this.lastHeardMs === null) return 0;
    return phiOf(nowMs - this.lastHeardMs, this.meanMs, this.stdMs);
  }

  rebase(nowMs: number): void {
    if (this.lastHeardMs === null) return;
    this.lastHeardMs = Math.max(this.lastHeardMs, nowMs);
    this.sampleNextInterval = false;
  }

  reset(): void {
    this.intervals.clear();
    this.lastHeardMs = null;
    this.sampleNextInterval = false;
    this.refresh();
  }

  /** Silence after which the link is down, given what has been learnt (for status and tests). */
  downAfter(): number {
    return this.downAfterMs;
  }

  /** Silence after which a heartbeat is late. */
  lateAfter(): number {
    return this.lateAfterMs;
  }

  private refresh(): void {
    let meanMs: number;
    let stdMs: number;
    if (this.intervals.size < 2) {
      // Bootstrap (as Akka does): with fewer than two intervals there is no deviation to
      // measure, and a detector without a distribution would suspect at once or never. The
      // keepalive is what a healthy sender promises, and a quarter of it is generous jitter
      // for a LAN while still letting a peer that dies right after its first heartbeat be
      // caught well before the deadtime cap. The floor and the pause below apply as usual.
      meanMs = this.timing.keepalive_ms;
      stdMs = this.timing.keepalive_ms / 4;
    } else {
      meanMs = this.intervals.mean();
      stdMs = this.intervals.std();
    }
    this.meanMs = meanMs + this.config.acceptable_pause_ms;
    this.stdMs = Math.max(stdMs, this.config.min_std_ms);
    const deadtimeMs = this.timing.deadtime_ms;
    this.downAfterMs = Math.min(
      elapsedAtPhi(this.config.phi_threshold, this.meanMs, this.stdMs),
      deadtimeMs,
    );
    this.lateAfterMs = Math.min(
      elapsedAtPhi(this.config.phi_warn, this.meanMs, this.stdMs),
      this.downAfterMs,
    );
  }
}
