import { controlPost } from "../../control/client.js";
import { UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";

export interface CheckReportOptions {
  socket?: string;
  config?: string;
  note?: string;
}

const STATUSES = ["pass", "warn", "fail"] as const;

/**
 * `vigil check pass|warn|fail NAME [--note TEXT]`: reports on a TTL check to this node's agent
 * (POST /v1/checks/NAME). An application (or its cron job) runs it at least every ttl_ms.
 */
export async function runCheckReport(
  status: string,
  check: string,
  options: CheckReportOptions,
): Promise<void> {
  if (!(STATUSES as readonly string[]).includes(status))
    throw new UsageError(
      `vigil check takes pass, warn or fail, then the check's name; got "${status}"`,
    );
  if ((options.note ?? "").length > 500)
    throw new UsageError("--note takes at most 500 characters");
  const socketPath = await controlSocketPath(options);
  await controlPost(socketPath, `/v1/checks/${encodeURIComponent(check)}`, {
    status,
    note: options.note ?? "",
  });
}
