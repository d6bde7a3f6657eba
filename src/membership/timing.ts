/**
 * What membership is told about time: its own types, so that the core does not depend on the
 * configuration's schema. The fields carry the names of the configuration's keys (`timing.*`,
 * `detector.*`): the resolved configuration's sections fit as they are (the agent passes them
 * in; the compiler checks they still fit), and an error can name the key to fix.
 */

/** Heartbeat timing in ms, every knob known (a profile already applied). */
export interface MembershipTiming {
  /** How often each peer sends a heartbeat on every link. */
  keepalive_ms: number;
  /** Silence on a link after which its heartbeat is late. */
  warntime_ms: number;
  /** Silence on a link after which it is down (and on every link, the peer dead). */
  deadtime_ms: number;
  /** Grace for a peer never heard since this node started. */
  initdead_ms: number;
}

/** Phi-accrual's knobs (see phi-detector.ts). */
export interface PhiDetectorSettings {
  type: "phi";
  phi_threshold: number;
  phi_warn: number;
  window_size: number;
  min_std_ms: number;
  acceptable_pause_ms: number;
}

/** Which failure detector judges each peer×link: fixed (warntime/deadtime) or phi-accrual. */
export type DetectorSettings = { type: "fixed" } | PhiDetectorSettings;
