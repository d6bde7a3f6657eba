/**
 * Errors a link reports, always prefixed with the link's name so a log line or a failed start
 * says which of several links is at fault.
 */

export type LinkErrorCode =
  /** The configuration cannot work for this link (missing address, interface, device). */
  | "config"
  /** Binding the socket, joining the group or opening the device failed. */
  | "open_failed"
  | "send_failed"
  /** The socket or device failed after it was open (receive error, device gone). */
  | "io_failed";

export class LinkError extends Error {
  override readonly name = "LinkError";

  constructor(
    readonly linkName: string,
    readonly code: LinkErrorCode,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`link ${linkName}: ${detail}`, options);
  }
}

const EXPLANATIONS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available (is it configured on an interface of this host?)",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENODEV: "no such device",
  ENOENT: "no such file or directory",
  EBUSY: "device busy",
  EIO: "input/output error (device gone?)",
  ENETUNREACH: "network unreachable",
  EHOSTUNREACH: "host unreachable",
  EMSGSIZE: "message too long",
  EAGAIN: "would block (output buffer full)",
  ENOBUFS: "no buffer space available",
};

/** A short human reason for a system error, e.g. "address already in use". */
export function explainSystemError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && EXPLANATIONS[code] !== undefined) return EXPLANATIONS[code];
  return error instanceof Error ? error.message : String(error);
}
