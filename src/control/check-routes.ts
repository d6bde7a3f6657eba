import { z } from "zod";
import { parseRequest } from "./request-schemas.js";
import { queryParameters, RequestError, type Route } from "./route.js";

export interface CheckRouteDeps {
  /** A TTL check's report on this node; why it cannot be taken, or null. */
  report(check: string, status: "pass" | "warn" | "fail", note: string): string | null;
}

const reportSchema = z.strictObject({
  status: z.enum(["pass", "warn", "fail"]),
  note: z.string().max(500, "expected a note of at most 500 characters").default(""),
});

/**
 * POST (or PUT) /v1/checks/NAME: an application reports on its TTL check to the agent of its
 * node (`vigil check pass NAME`), Consul's way; a missed report fails the check.
 */
export function checkRoutes(deps: CheckRouteDeps): Record<string, Route> {
  const report: Route = (body, query) => {
    const { check } = queryParameters(query, ["check"]);
    if (check === undefined) throw new RequestError(404, "no route");
    const { status, note } = parseRequest(reportSchema, body, "check report");
    const refused = deps.report(check, status, note);
    if (refused !== null) throw new RequestError(404, refused);
    return { ok: true, check, status };
  };
  return { "POST /v1/checks/:check": report, "PUT /v1/checks/:check": report };
}
