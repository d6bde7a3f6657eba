import { minimumFollowerLeaseMs, resolveCoordination, resolveTiming } from "./derive.js";
import type { ConfigPath, ConfigProblem } from "./errors.js";
import { FOLLOWER_LEASE_SPARE_MS, type ParsedConfig, type Timing } from "./schema.js";

type TimingKnob = keyof Timing;

/**
 * Relations between the timing knobs, checked after the profile is applied so that overriding
 * one knob cannot silently break its relation with a knob the profile supplied. Each problem
 * names the knob the file sets (that is the one to change), or timing.profile when neither is set.
 */
export function validateTiming(parsed: ParsedConfig): ConfigProblem[] {
  const explicit = parsed.timing;
  const timing = resolveTiming(explicit);
  const problems: ConfigProblem[] = [];
  const show = (knob: TimingKnob): string =>
    explicit[knob] === undefined
      ? `${knob} (${timing[knob]}, from profile ${timing.profile})`
      : `${knob} (${timing[knob]})`;
  const blame = (...knobs: TimingKnob[]): ConfigPath => {
    const set = knobs.find((knob) => explicit[knob] !== undefined);
    return ["timing", set ?? "profile"];
  };

  if (timing.keepalive_ms >= timing.warntime_ms) {
    problems.push({
      path: blame("keepalive_ms", "warntime_ms"),
      message: `${show("keepalive_ms")} must be less than ${show("warntime_ms")}: otherwise every heartbeat would be reported late`,
    });
  }
  if (timing.warntime_ms >= timing.deadtime_ms) {
    problems.push({
      path: blame("warntime_ms", "deadtime_ms"),
      message: `${show("warntime_ms")} must be less than ${show("deadtime_ms")}: the late-heartbeat warning has to come before the node is declared dead`,
    });
  }
  if (timing.deadtime_ms < 2 * timing.keepalive_ms) {
    problems.push({
      path: blame("deadtime_ms", "keepalive_ms"),
      message: `${show("deadtime_ms")} must be at least twice ${show("keepalive_ms")} so one lost heartbeat cannot kill a node`,
    });
  }
  if (timing.initdead_ms < timing.deadtime_ms) {
    problems.push({
      path: blame("initdead_ms", "deadtime_ms"),
      message: `${show("initdead_ms")} must be at least ${show("deadtime_ms")}: a node not yet heard from gets at least the grace of one that went silent`,
    });
  }
  return problems;
}

export function validateDetector(parsed: ParsedConfig): ConfigProblem[] {
  const detector = parsed.detector;
  if (detector.type !== "phi" || detector.phi_warn < detector.phi_threshold) return [];
  return [
    {
      path: ["detector", "phi_warn"],
      message: `phi_warn (${detector.phi_warn}) must be less than phi_threshold (${detector.phi_threshold}): a heartbeat must be reported late before its link is declared down`,
    },
  ];
}

/**
 * Relations between heartbeat, election and lease timing. Safety rests on the last one: a lease
 * (stretched by the worst clock drift) ends before any other node can be elected, so two nodes
 * never both believe they may act.
 */
export function validateCoordination(parsed: ParsedConfig): ConfigProblem[] {
  const timing = resolveTiming(parsed.timing);
  const c = resolveCoordination(parsed);
  const problems: ConfigProblem[] = [];
  const at = (knob: string): ConfigPath =>
    (parsed.coordination as Record<string, unknown>)[knob] === undefined
      ? ["timing", "profile"]
      : ["coordination", knob];
  if (c.election_timeout_min_ms < 3 * timing.keepalive_ms) {
    problems.push({
      path: at("election_timeout_min_ms"),
      message: `election_timeout_min_ms (${c.election_timeout_min_ms}) must be at least three keepalive intervals (${3 * timing.keepalive_ms} ms), so a lost heartbeat or two cannot start an election`,
    });
  }
  if (c.election_timeout_max_ms <= c.election_timeout_min_ms) {
    problems.push({
      path: at("election_timeout_max_ms"),
      message: `election_timeout_max_ms (${c.election_timeout_max_ms}) must be greater than election_timeout_min_ms (${c.election_timeout_min_ms}): the random spread between them is what avoids split votes`,
    });
  }
  if (c.lease_ms * (1 + c.clock_drift_ratio) >= c.election_timeout_min_ms) {
    problems.push({
      path: at("lease_ms"),
      message: `lease_ms (${c.lease_ms}) × (1 + clock_drift_ratio ${c.clock_drift_ratio}) must be less than election_timeout_min_ms (${c.election_timeout_min_ms}): a lease must run out before another node can be elected`,
    });
  }
  if (c.follower_lease_ms < c.lease_ms) {
    problems.push({
      path: at("follower_lease_ms"),
      message: `follower_lease_ms (${c.follower_lease_ms}) must be at least lease_ms (${c.lease_ms})`,
    });
  }
  const minimumFollowerLease = minimumFollowerLeaseMs(
    timing.keepalive_ms,
    c.election_timeout_max_ms,
  );
  if (c.follower_lease_ms < minimumFollowerLease) {
    problems.push({
      path: at("follower_lease_ms"),
      message: `follower_lease_ms (${c.follower_lease_ms}) must be at least keepalive_ms + election_timeout_max_ms + ${FOLLOWER_LEASE_SPARE_MS} (${minimumFollowerLease}): a follower's lease was renewed a heartbeat or more before its leader died and must last through the next election, or every follower stops its resources whenever the leader dies`,
    });
  }
  if (c.lease_ms <= timing.keepalive_ms) {
    problems.push({
      path: at("lease_ms"),
      message: `lease_ms (${c.lease_ms}) must be longer than keepalive_ms (${timing.keepalive_ms}): leases are renewed by the leader's heartbeats`,
    });
  }
  return problems;
}
