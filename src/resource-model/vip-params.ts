/**
 * The vip agent's parameters, read without touching the node: used by the agent before every
 * operation and by the model check before a document is applied or used.
 */
import { parseVipAddress, type VipAddress } from "./vip-address.js";

const ARP_COUNT_DEFAULT = 5;
const ARP_INTERVAL_MS_DEFAULT = 200;
/** Bounds that keep a typo from flooding the segment or keeping ARPs going for minutes. */
const ARP_COUNT_MAX = 100;
const ARP_INTERVAL_MS_MAX = 10_000;
const ARP_REFRESH_MS_DEFAULT = 5_000;
const ARP_REFRESH_MS_MAX = 3_600_000;

/** A parameter the vip agent cannot use, named so a checker can point at it. */
export class VipParamError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = "VipParamError";
  }
}

export interface VipConfig {
  vip: VipAddress;
  interfaceName?: string;
  arpCount: number;
  arpIntervalMs: number;
  arpRefreshMs: number;
}

/**
 * The parameters as the agent uses them; throws an Error naming the parameter. `prefixRequired`
 * (documents being applied) refuses an address without /prefix: the default (/32, /128) is
 * rarely what was meant, and documents applied before this rule still run.
 */
export function readVipParams(
  params: Readonly<Record<string, string>>,
  options: { prefixRequired?: boolean } = {},
): VipConfig {
  const text = params.address;
  if (text === undefined || text.trim() === "") {
    throw new VipParamError("address", `parameter "address" is required`);
  }
  let vip: VipAddress;
  try {
    vip = parseVipAddress(text);
  } catch (error) {
    throw new VipParamError("address", (error as Error).message);
  }
  if (options.prefixRequired === true && !text.includes("/")) {
    const example = vip.family === 4 ? `${vip.address}/24` : `${vip.address}/64`;
    throw new VipParamError(
      "address",
      `address "${text}" has no prefix length: write the subnet's, e.g. ${example}`,
    );
  }
  const interfaceName = params.interface?.trim();
  if (interfaceName !== undefined && !/^[^\s/]{1,15}$/.test(interfaceName)) {
    throw new VipParamError("interface", `interface "${interfaceName}" is not an interface name`);
  }
  return {
    vip,
    ...(interfaceName ? { interfaceName } : {}),
    arpCount: readInteger(params, "arp_count", ARP_COUNT_DEFAULT, ARP_COUNT_MAX),
    arpIntervalMs: readInteger(
      params,
      "arp_interval_ms",
      ARP_INTERVAL_MS_DEFAULT,
      ARP_INTERVAL_MS_MAX,
    ),
    arpRefreshMs: readInteger(params, "arp_refresh_ms", ARP_REFRESH_MS_DEFAULT, ARP_REFRESH_MS_MAX),
  };
}

function readInteger(
  params: Readonly<Record<string, string>>,
  name: string,
  fallback: number,
  max: number,
): number {
  const text = params[name];
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= max)) {
    throw new VipParamError(
      name,
      `parameter "${name}" must be an integer 0..${max}, got "${text}"`,
    );
  }
  return value;
}
