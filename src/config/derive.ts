import { createHash } from "node:crypto";
import { isTwoNodeMode, noQuorumPolicyOf } from "./safety-modes.js";
import {
  COORDINATION_PROFILES,
  type CoordinationTiming,
  FOLLOWER_LEASE_SPARE_MS,
  type ParsedConfig,
  TIMING_PROFILES,
  type Timing,
  type TimingProfileName,
  type VigilConfig,
} from "./schema.js";

export type ResolvedTiming = Timing & { profile: TimingProfileName };

/** The profile's values, with every knob the file sets explicitly taking precedence. */
export function resolveTiming(timing: ParsedConfig["timing"]): ResolvedTiming {
  const base = TIMING_PROFILES[timing.profile];
  return {
    profile: timing.profile,
    keepalive_ms: timing.keepalive_ms ?? base.keepalive_ms,
    warntime_ms: timing.warntime_ms ?? base.warntime_ms,
    deadtime_ms: timing.deadtime_ms ?? base.deadtime_ms,
    initdead_ms: timing.initdead_ms ?? base.initdead_ms,
  };
}

/**
 * The shortest follower lease that lasts through an election after the leader died: it was
 * anchored at an answer echoed up to a heartbeat before the leader's last one, and resources stop
 * up to FOLLOWER_LEASE_SPARE_MS before it ends.
 */
export function minimumFollowerLeaseMs(keepaliveMs: number, electionMaxMs: number): number {
  return keepaliveMs + electionMaxMs + FOLLOWER_LEASE_SPARE_MS;
}

/** The profile's election and lease timing, with explicit knobs taking precedence. */
export function resolveCoordination(parsed: ParsedConfig): CoordinationTiming {
  const base = COORDINATION_PROFILES[parsed.timing.profile];
  const knobs = parsed.coordination;
  const electionMaxMs = knobs.election_timeout_max_ms ?? base.election_timeout_max_ms;
  const keepaliveMs = resolveTiming(parsed.timing).keepalive_ms;
  return {
    election_timeout_min_ms: knobs.election_timeout_min_ms ?? base.election_timeout_min_ms,
    election_timeout_max_ms: electionMaxMs,
    lease_ms: knobs.lease_ms ?? base.lease_ms,
    // Longer elections or heartbeats lengthen it, a heartbeat to spare (see validateCoordination).
    follower_lease_ms:
      knobs.follower_lease_ms ??
      Math.max(
        base.follower_lease_ms,
        knobs.lease_ms ?? 0,
        minimumFollowerLeaseMs(keepaliveMs, electionMaxMs) + keepaliveMs,
      ),
    clock_drift_ratio: knobs.clock_drift_ratio,
    wait_for_all: knobs.wait_for_all,
  };
}

/**
 * The 32-bit cluster id carried by every frame: the first four bytes (big-endian) of
 * SHA-256(cluster name), so that every node computes the same id from the same file without
 * anyone choosing one. Configured ids start at 1, so a hash of 0 becomes 1.
 */
export function deriveClusterId(clusterName: string): number {
  const id = createHash("sha256").update(clusterName, "utf8").digest().readUInt32BE(0);
  return id === 0 ? 1 : id;
}

export function toVigilConfig(parsed: ParsedConfig): VigilConfig {
  return {
    ...parsed,
    timing: resolveTiming(parsed.timing),
    coordination: resolveCoordination(parsed),
    no_quorum_policy: noQuorumPolicyOf(parsed),
    twoNode: isTwoNodeMode(parsed),
    clusterId: parsed.cluster.id ?? deriveClusterId(parsed.cluster.name),
  };
}
