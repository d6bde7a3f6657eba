import { isIP } from "node:net";
import { z } from "zod";
import type { ConfigProblem } from "./errors.js";
import { parseHostPort } from "./host-port.js";

/** An address the API may listen on: "127.0.0.1:9420", "[::1]:9420", "0.0.0.0:9420". */
export interface ListenAddress {
  host: string;
  port: number;
}

/** "ADDR:PORT" with a numeric IPv4 or IPv6 address (in brackets), or null. */
export function parseListenAddress(text: string): ListenAddress | null {
  const parsed = parseHostPort(text);
  if (parsed === null || isIP(parsed.host) === 0) return null;
  if (isIP(parsed.host) === 6 && !text.startsWith("[")) return null;
  return parsed;
}

/** 127.0.0.0/8 and ::1: what only this machine can reach. */
export function isLoopback(host: string): boolean {
  return isIP(host) === 4 ? host.startsWith("127.") : host === "::1";
}

/** The config's issue reporting adds what was found. */
export const listenAddressSchema = z
  .string()
  .refine(
    (text) => parseListenAddress(text) !== null,
    "expected ADDR:PORT with a numeric address, such as 127.0.0.1:9420 or [::1]:9420",
  );

const absolutePath = (example: string) =>
  z.string().startsWith("/", `expected an absolute path such as ${example}`);

/**
 * The network API (src/api/, docs/api.md): off unless this section is present. Without `tls`
 * it listens on loopback only: bearer tokens must not cross a network in clear.
 */
export const apiSchema = z.strictObject({
  /** Where every node listens, unless the node sets its own `api_listen`. */
  listen: listenAddressSchema,
  /** PEM certificate (chain) and private key; with them the API speaks HTTPS only. */
  tls: z
    .strictObject({
      cert: absolutePath("/etc/vigil/api.crt"),
      key: absolutePath("/etc/vigil/api.key"),
    })
    .optional(),
  /** One token a line: ROLE NAME TOKEN (docs/api.md). Read when the agent starts and on SIGHUP. */
  tokens_file: absolutePath("/etc/vigil/api-tokens").default("/etc/vigil/api-tokens"),
});

export type ApiConfig = z.output<typeof apiSchema>;

interface ApiParsed {
  api?: ApiConfig | undefined;
  nodes: ReadonlyArray<{ name: string; api_listen?: string | undefined }>;
}

/** Where `node` listens: its own `api_listen`, else `api.listen`; null with the API off. */
export function apiListenOf(
  config: ApiParsed,
  node: { api_listen?: string | undefined },
): ListenAddress | null {
  if (config.api === undefined) return null;
  return parseListenAddress(node.api_listen ?? config.api.listen);
}

/** Without TLS only loopback addresses; a node's own address only with the API on. */
export function validateApi(parsed: ApiParsed): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { api } = parsed;
  const clearText = (address: string) =>
    `${address} is not a loopback address, and without api.tls the API's bearer tokens would cross the network in clear: add api.tls { cert, key }, or listen on 127.0.0.1 (or [::1])`;
  if (api !== undefined && api.tls === undefined) {
    const listen = parseListenAddress(api.listen);
    if (listen !== null && !isLoopback(listen.host))
      problems.push({ path: ["api", "listen"], message: clearText(api.listen) });
  }
  parsed.nodes.forEach((node, index) => {
    if (node.api_listen === undefined) return;
    const path = ["nodes", index, "api_listen"];
    if (api === undefined) {
      problems.push({
        path,
        message: `node ${node.name} sets api_listen, but the API is off: add an api section (api: { listen, tokens_file }) or remove api_listen`,
      });
      return;
    }
    const listen = parseListenAddress(node.api_listen);
    if (api.tls === undefined && listen !== null && !isLoopback(listen.host))
      problems.push({ path, message: clearText(node.api_listen) });
  });
  return problems;
}
