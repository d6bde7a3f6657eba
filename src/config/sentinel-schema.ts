import { z } from "zod";
import { type ListenAddress, parseListenAddress } from "./api-schema.js";
import type { ConfigProblem } from "./errors.js";

/** Redis Sentinel's own port: clients configured for Sentinel ask it unless told otherwise. */
export const SENTINEL_DEFAULT_PORT = 26379;

/** What Sentinel itself accepts as a master name, less what would need quoting in a shell. */
const MASTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** "ADDR" (port 26379) or "ADDR:PORT", with a numeric address; IPv6 in brackets. */
export function parseSentinelListen(text: string): ListenAddress | null {
  return (
    parseListenAddress(text) ??
    parseListenAddress(
      `${text.includes(":") && !text.startsWith("[") ? `[${text}]` : text}:${SENTINEL_DEFAULT_PORT}`,
    )
  );
}

export const sentinelListenSchema = z
  .string()
  .refine(
    (text) => parseSentinelListen(text) !== null,
    "expected ADDR or ADDR:PORT with a numeric address, such as 0.0.0.0:26379 or [::1]:26379",
  );

const serviceAddressSchema = z.union([z.ipv4(), z.ipv6()], {
  error: "expected a numeric IPv4 or IPv6 address such as 198.18.0.1",
});

/**
 * One Sentinel "master name": the promotable resource whose promoted copy is that master, the
 * port its copies serve on, and where each node's copy is reached: its address on `link` unless
 * `addresses` names one for it.
 */
export const sentinelServiceSchema = z.strictObject({
  resource: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(6379),
  /** The link whose node addresses the copies are reached on; the first link by default. */
  link: z.string().optional(),
  /** Node → the address its copy serves on, where that is not its address on `link`. */
  addresses: z.record(z.string(), serviceAddressSchema).default({}),
});

/**
 * The Redis Sentinel protocol (src/sentinel/, docs/configuration.md): off unless this section
 * is present. It answers what Sentinel clients ask (where the master of a name is, its
 * replicas, +switch-master), from the replicated state; it changes nothing, so it has no tokens.
 */
export const sentinelSchema = z.strictObject({
  /** Where every node listens, unless the node sets its own `sentinel_listen`. */
  listen: sentinelListenSchema.default(`0.0.0.0:${SENTINEL_DEFAULT_PORT}`),
  /** Master name → its service; names are checked in validateSentinel (zod's record keys say only "invalid key"). */
  services: z.record(z.string(), sentinelServiceSchema),
});

export type SentinelConfig = z.output<typeof sentinelSchema>;
export type SentinelServiceConfig = z.output<typeof sentinelServiceSchema>;

interface SentinelParsed {
  sentinel?: SentinelConfig | undefined;
  links: ReadonlyArray<{ name: string }>;
  nodes: ReadonlyArray<{
    name: string;
    witness: boolean;
    links: Record<string, { address?: string | undefined }>;
    sentinel_listen?: string | undefined;
  }>;
}

/** Where `node` listens: its own `sentinel_listen`, else `sentinel.listen`; null when off. */
export function sentinelListenOf(
  config: Pick<SentinelParsed, "sentinel">,
  node: { sentinel_listen?: string | undefined },
): ListenAddress | null {
  if (config.sentinel === undefined) return null;
  return parseSentinelListen(node.sentinel_listen ?? config.sentinel.listen);
}

/** The address `node`'s copy of `service` serves on, or undefined when none is known. */
export function serviceAddressOf(
  config: Pick<SentinelParsed, "links">,
  service: SentinelServiceConfig,
  node: SentinelParsed["nodes"][number],
): string | undefined {
  if (Object.hasOwn(service.addresses, node.name)) return service.addresses[node.name];
  const link = service.link ?? config.links[0]?.name;
  return link === undefined ? undefined : node.links[link]?.address;
}

/** Each service's link exists, names nodes that exist, and every node that runs resources has an address. */
export function validateSentinel(parsed: SentinelParsed): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { sentinel } = parsed;
  parsed.nodes.forEach((node, index) => {
    if (node.sentinel_listen !== undefined && sentinel === undefined)
      problems.push({
        path: ["nodes", index, "sentinel_listen"],
        message: `node ${node.name} sets sentinel_listen, but the Sentinel protocol is off: add a sentinel section (sentinel: { services: ... }) or remove sentinel_listen`,
      });
  });
  if (sentinel === undefined) return problems;
  const linkNames = parsed.links.map((link) => link.name);
  const nodeNames = parsed.nodes.map((node) => node.name);
  for (const [name, service] of Object.entries(sentinel.services)) {
    const path = ["sentinel", "services", name];
    if (!MASTER_NAME.test(name))
      problems.push({
        path,
        message: `expected a master name such as mymaster: a letter or digit, then letters, digits, ".", "_" or "-", at most 64 (got "${name}")`,
      });
    if (service.link !== undefined && !linkNames.includes(service.link)) {
      problems.push({
        path: [...path, "link"],
        message: `no link ${service.link}: expected one of ${linkNames.join(", ")}`,
      });
      continue;
    }
    for (const node of Object.keys(service.addresses))
      if (!nodeNames.includes(node))
        problems.push({
          path: [...path, "addresses", node],
          message: `no node ${node}: expected one of ${nodeNames.join(", ")}`,
        });
    const link = service.link ?? linkNames[0];
    for (const node of parsed.nodes) {
      if (node.witness || serviceAddressOf(parsed, service, node) !== undefined) continue;
      problems.push({
        path: [...path, "addresses"],
        message: `node ${node.name} has no address on link ${link} to serve ${name} on: give one (addresses: { ${node.name}: ADDRESS }) or choose a link where every node has an address (link: NAME)`,
      });
    }
  }
  return problems;
}
