/**
 * A load-balanced virtual service (LVS's, keepalived's virtual_server): the VIP's address and a
 * port, spread over real servers by a scheduler, a sorry server when none is healthy. Written in
 * the document's `virtual_services` section; run as a primitive of the `director` agent whose
 * parameters carry the whole service as text (virtualServiceParams), so that every stop (the
 * agent's, the node guard's after the agent died) needs nothing but the parameters.
 */
import { parseVipAddress } from "./vip-address.js";

export const SCHEDULERS = ["rr", "wrr", "sh"] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
export const SERVICE_PROTOCOLS = ["tcp", "udp"] as const;
export type ServiceProtocol = (typeof SERVICE_PROTOCOLS)[number];
/** auto: IPVS where the kernel has it (/proc/net/ip_vs) and masquerade is off, else nftables. */
export const DIRECTOR_BACKENDS = ["auto", "nftables", "ipvs"] as const;
export type DirectorBackend = (typeof DIRECTOR_BACKENDS)[number];

/** LVS takes 0..65535; past 100 a weight says nothing a smaller ratio does not. */
export const REAL_SERVER_WEIGHT_MAX = 100;
export const REAL_SERVERS_MAX = 64;

export interface Endpoint {
  address: string;
  port: number;
}

export interface RealServer extends Endpoint {
  /** wrr and sh: its share of new connections; 0: none (drained, as in LVS). rr: 0 or not. */
  weight: number;
  /** The check (`checks` section) whose verdict says whether it is healthy; none: always. */
  check?: string;
}

export interface VirtualService {
  family: 4 | 6;
  /** The VIP's address, without prefix. */
  address: string;
  port: number;
  protocol: ServiceProtocol;
  scheduler: Scheduler;
  realServers: RealServer[];
  sorryServer?: Endpoint;
  /** Replies of real servers that do not route through the director need the director's address. */
  masquerade: boolean;
  backend: DirectorBackend;
}

/** A director parameter that cannot be used, named so a checker can point at it. */
export class DirectorParamError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = "DirectorParamError";
  }
}

/** `198.18.0.1:80`, `[2001:db8::1]:80`: how ipvsadm and nft's dnat write an endpoint. */
export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.address.includes(":")
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}

/** The director agent's parameters for a service. */
export function virtualServiceParams(service: VirtualService): Record<string, string> {
  return {
    address: service.address,
    port: String(service.port),
    protocol: service.protocol,
    scheduler: service.scheduler,
    // "ENDPOINT*WEIGHT@CHECK" per server, in the written order.
    real_servers: service.realServers
      .map(
        (server) =>
          `${formatEndpoint(server)}*${server.weight}${server.check === undefined ? "" : `@${server.check}`}`,
      )
      .join(","),
    ...(service.sorryServer === undefined
      ? {}
      : { sorry_server: formatEndpoint(service.sorryServer) }),
    masquerade: String(service.masquerade),
    backend: service.backend,
  };
}

const ENDPOINT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;
const REAL_SERVER = /^(.+)\*(\d{1,3})(?:@([A-Za-z0-9][A-Za-z0-9._-]{0,63}))?$/;

/** The service the parameters describe; throws a DirectorParamError naming the parameter. */
export function readVirtualServiceParams(params: Readonly<Record<string, string>>): VirtualService {
  const address = required(params, "address");
  let family: 4 | 6;
  try {
    const vip = parseVipAddress(address);
    if (address.includes("/")) throw new Error(`address "${address}" must not carry a prefix`);
    family = vip.family;
  } catch (error) {
    throw new DirectorParamError("address", (error as Error).message);
  }
  const realServers = required(params, "real_servers")
    .split(",")
    .map((text) => {
      const match = REAL_SERVER.exec(text.trim());
      if (match === null)
        throw new DirectorParamError(
          "real_servers",
          `"${text}" is not ADDRESS:PORT*WEIGHT[@CHECK]`,
        );
      const weight = Number(match[2]);
      if (weight > REAL_SERVER_WEIGHT_MAX)
        throw new DirectorParamError(
          "real_servers",
          `"${text}": weight must be 0..${REAL_SERVER_WEIGHT_MAX}`,
        );
      return {
        ...readEndpoint(match[1] ?? "", "real_servers", family),
        weight,
        ...(match[3] === undefined ? {} : { check: match[3] }),
      };
    });
  const sorry = params.sorry_server;
  return {
    family,
    address,
    port: readPort(required(params, "port"), "port"),
    protocol: oneOf(params, "protocol", SERVICE_PROTOCOLS),
    scheduler: oneOf(params, "scheduler", SCHEDULERS),
    realServers,
    ...(sorry === undefined ? {} : { sorryServer: readEndpoint(sorry, "sorry_server", family) }),
    masquerade: oneOf(params, "masquerade", ["true", "false"] as const) === "true",
    backend: oneOf(params, "backend", DIRECTOR_BACKENDS),
  };
}

function required(params: Readonly<Record<string, string>>, name: string): string {
  const value = params[name];
  if (value === undefined || value.trim() === "")
    throw new DirectorParamError(name, `parameter "${name}" is required`);
  return value.trim();
}

function oneOf<T extends string>(
  params: Readonly<Record<string, string>>,
  name: string,
  values: readonly T[],
): T {
  const value = required(params, name);
  if (!(values as readonly string[]).includes(value))
    throw new DirectorParamError(
      name,
      `parameter "${name}" must be one of ${values.join(", ")}, got "${value}"`,
    );
  return value as T;
}

function readPort(text: string, param: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535))
    throw new DirectorParamError(param, `"${text}" is not a port (1..65535)`);
  return port;
}

function readEndpoint(text: string, param: string, family: 4 | 6): Endpoint {
  const match = ENDPOINT.exec(text.trim());
  const address = match?.[1] ?? match?.[2];
  if (match === null || address === undefined)
    throw new DirectorParamError(param, `"${text}" is not ADDRESS:PORT ([ADDRESS]:PORT for IPv6)`);
  let parsed: ReturnType<typeof parseVipAddress>;
  try {
    parsed = parseVipAddress(address);
  } catch (error) {
    throw new DirectorParamError(param, (error as Error).message);
  }
  if (address.includes("/"))
    throw new DirectorParamError(param, `"${text}": an address without /prefix`);
  if (parsed.family !== family)
    throw new DirectorParamError(
      param,
      `"${text}" is IPv${parsed.family} and the service's address IPv${family}: one family`,
    );
  return { address, port: readPort(match[3] ?? "", param) };
}
