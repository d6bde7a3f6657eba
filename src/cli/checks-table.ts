import type { CheckStatus } from "../checks/health-checks.js";
import { renderTable } from "./table.js";

/** The "Checks:" section of `vigil status`: the health checks on this node and their verdicts. */
export function renderChecks(checks: readonly CheckStatus[], nowMs: number): string[] {
  const rows = [["CHECK", "VERDICT", "LAST TRY", "DETAIL"]];
  for (const check of checks) {
    rows.push([
      check.check,
      check.verdict,
      check.lastTryAtMs === null
        ? "never"
        : `${Math.max(0, Math.round(nowMs - check.lastTryAtMs))} ms ago`,
      check.detail,
    ]);
  }
  return ["Checks (on this node):", ...renderTable(rows)];
}
