/**
 * OCF exit codes (OCF Resource Agent API 1.1) and how serious a failure is, following Pacemaker:
 * a "hard" failure means the resource cannot run on this node (retrying here is pointless), a
 * "fatal" one means its configuration is wrong everywhere, a "soft" one may go away on a retry.
 */

export const OCF_SUCCESS = 0;
export const OCF_ERR_GENERIC = 1;
export const OCF_ERR_ARGS = 2;
export const OCF_ERR_UNIMPLEMENTED = 3;
export const OCF_ERR_PERM = 4;
export const OCF_ERR_INSTALLED = 5;
export const OCF_ERR_CONFIGURED = 6;
export const OCF_NOT_RUNNING = 7;
export const OCF_RUNNING_PROMOTED = 8;
export const OCF_FAILED_PROMOTED = 9;

export type OcfExitCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

const NAMES: Record<OcfExitCode, string> = {
  0: "OCF_SUCCESS",
  1: "OCF_ERR_GENERIC",
  2: "OCF_ERR_ARGS",
  3: "OCF_ERR_UNIMPLEMENTED",
  4: "OCF_ERR_PERM",
  5: "OCF_ERR_INSTALLED",
  6: "OCF_ERR_CONFIGURED",
  7: "OCF_NOT_RUNNING",
  8: "OCF_RUNNING_PROMOTED",
  9: "OCF_FAILED_PROMOTED",
};

export function isOcfExitCode(value: number): value is OcfExitCode {
  return Number.isInteger(value) && value >= 0 && value <= 9;
}

export function ocfCodeName(code: OcfExitCode): string {
  return NAMES[code];
}

/**
 * soft: retry (restart) here is reasonable; hard: do not retry on this node (ARGS, UNIMPLEMENTED,
 * PERM, INSTALLED); fatal: the configuration is invalid on every node (CONFIGURED) — Pacemaker
 * stops the resource cluster-wide for it. A timeout is soft.
 */
export type FailureSeverity = "soft" | "hard" | "fatal";

export function failureSeverity(code: OcfExitCode): FailureSeverity {
  switch (code) {
    case OCF_ERR_ARGS:
    case OCF_ERR_UNIMPLEMENTED:
    case OCF_ERR_PERM:
    case OCF_ERR_INSTALLED:
      return "hard";
    case OCF_ERR_CONFIGURED:
      return "fatal";
    default:
      return "soft";
  }
}

/** True for codes that mean "do not retry on this node" (2–6), the brief's "hard" class. */
export function isHardFailure(code: OcfExitCode): boolean {
  return failureSeverity(code) !== "soft";
}
