import { readTrustedFile } from "../keys/keyfile.js";
import { ApiError } from "./errors.js";

/**
 * The API's bearer tokens, from `api.tokens_file`: one token a line, `ROLE NAME TOKEN`, blank
 * lines and `#` comments ignored (docs/api.md).
 *
 *   # role   name     token (openssl rand -hex 32)
 *   read     grafana  1c5e...
 *   operate  alice    9f0b...
 *
 * `read` may use every GET route and /metrics; `operate` everything. The name is who the logs
 * say made a request.
 */

export type ApiRole = "read" | "operate";

export interface ApiToken {
  role: ApiRole;
  name: string;
  token: string;
}

/** 32 characters of RFC 6750's token alphabet: 128 bits or more from a random generator. */
export const MIN_TOKEN_CHARS = 32;
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Every token of the file, or an ApiError naming the file and line of the first problem. */
export function parseTokens(text: string, file: string): ApiToken[] {
  const tokens: ApiToken[] = [];
  const lineOfName = new Map<string, number>();
  const lineOfToken = new Map<string, number>();
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/#.*$/, "").trim();
    if (content === "") return;
    const fail = (message: string): never => {
      throw new ApiError(`tokens file ${file}:${line}: ${message}`);
    };
    const fields = content.split(/\s+/);
    if (fields.length !== 3) fail(`expected ROLE NAME TOKEN (3 fields), found ${fields.length}`);
    const [role, name, token] = fields as [string, string, string];
    if (role !== "read" && role !== "operate") fail(`role "${role}" is neither read nor operate`);
    if (!NAME.test(name))
      fail(`name "${name}" is not a name such as grafana or alice@ops (letters, digits, . _ @ -)`);
    if (!TOKEN.test(token))
      fail(
        `the token of ${name} has characters a bearer token cannot have (letters, digits, - . _ ~ + / and trailing =)`,
      );
    if (token.length < MIN_TOKEN_CHARS)
      fail(
        `the token of ${name} has ${token.length} characters; at least ${MIN_TOKEN_CHARS} (openssl rand -hex 32 makes one)`,
      );
    const sameName = lineOfName.get(name);
    if (sameName !== undefined) fail(`name ${name} is already used on line ${sameName}`);
    const sameToken = lineOfToken.get(token);
    if (sameToken !== undefined) fail(`the token of ${name} is the same as line ${sameToken}'s`);
    lineOfName.set(name, line);
    lineOfToken.set(token, line);
    tokens.push({ role: role as ApiRole, name, token });
  });
  if (tokens.length === 0)
    throw new ApiError(
      `tokens file ${file} holds no token, so every request would be refused: add a line ROLE NAME TOKEN (docs/api.md)`,
    );
  return tokens;
}

/** How many tokens each role has: what the agent logs when it puts a file in force. */
export function tokensByRole(tokens: readonly ApiToken[]): Record<ApiRole, number> {
  const counts: Record<ApiRole, number> = { read: 0, operate: 0 };
  for (const { role } of tokens) counts[role]++;
  return counts;
}

/**
 * Reads and parses the tokens file, refusing one others could read or replace (like the key
 * file): at start, and again on SIGHUP, when a refusal keeps the tokens in force.
 */
export async function readTokensFile(file: string): Promise<ApiToken[]> {
  const text = await readTrustedFile(file, {
    file: "tokens file",
    directory: "tokens file directory",
    configKey: "api.tokens_file",
    forged: "the API's tokens",
    createHint: "create it with a line ROLE NAME TOKEN per client, mode 0600 (docs/api.md)",
  });
  return parseTokens(text, file);
}
