import { createHash, timingSafeEqual } from "node:crypto";
import type { Refusal } from "../control/server.js";
import type { ApiRole, ApiToken } from "./tokens.js";

/**
 * Who may do what on the network API. Every GET route (and /metrics) reads; every other method
 * changes something, through the same routes `vigil` uses on the control socket, and needs an
 * `operate` token. Tokens are compared as SHA-256 digests with timingSafeEqual, against every
 * token of the table whatever matched: the time a refusal takes tells nothing of any token.
 */

export type Admission =
  | { ok: true; name: string; role: ApiRole }
  | ({ ok: false; name: string | null } & Refusal);

/** The role a route needs: GET reads, anything else operates. */
export function roleNeeded(method: string | undefined): ApiRole {
  return method === "GET" || method === "HEAD" ? "read" : "operate";
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

export class TokenTable {
  private readonly entries: ReadonlyArray<{ digest: Buffer; name: string; role: ApiRole }>;

  /** `equal` is timingSafeEqual; a test passes a spy. */
  constructor(
    tokens: readonly ApiToken[],
    private readonly equal: (a: Buffer, b: Buffer) => boolean = timingSafeEqual,
  ) {
    this.entries = tokens.map(({ token, name, role }) => ({ digest: digest(token), name, role }));
  }

  /** The token's holder, or null; always compares with every entry. */
  holder(token: string): { name: string; role: ApiRole } | null {
    const presented = digest(token);
    let found: { name: string; role: ApiRole } | null = null;
    for (const entry of this.entries) {
      if (this.equal(presented, entry.digest) && found === null)
        found = { name: entry.name, role: entry.role };
    }
    return found;
  }

  /**
   * Admits a request with an `Authorization: Bearer TOKEN` header whose token's role covers
   * `method`; else a 401 (no token, not a bearer token, unknown token) or a 403 (a read token on
   * an operate route), each with its reason.
   */
  admit(authorization: string | undefined, method: string | undefined): Admission {
    if (authorization === undefined || authorization === "")
      return unauthorized("no bearer token: send the header Authorization: Bearer TOKEN");
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (match === null)
      return unauthorized(
        "the Authorization header is not a bearer token (Authorization: Bearer TOKEN)",
        "invalid_request",
      );
    const holder = this.holder(match[1]!);
    if (holder === null) return unauthorized("unknown token", "invalid_token");
    const needed = roleNeeded(method);
    if (needed === "operate" && holder.role !== "operate")
      return {
        ok: false,
        name: holder.name,
        status: 403,
        error: `token ${holder.name} has the role read; ${method} needs an operate token`,
      };
    return { ok: true, ...holder };
  }
}

/** A 401 with RFC 6750's challenge (and its error code, when the client sent a token). */
function unauthorized(error: string, code?: "invalid_request" | "invalid_token"): Admission {
  const challenge =
    code === undefined ? 'Bearer realm="vigil"' : `Bearer realm="vigil", error="${code}"`;
  return { ok: false, name: null, status: 401, error, headers: { "www-authenticate": challenge } };
}
