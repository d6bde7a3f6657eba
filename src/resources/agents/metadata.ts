/**
 * What an agent says about itself: its parameters (for config validation: unknown agent, missing
 * required parameter) and its actions with advised timeouts. OCF agents print it as XML on
 * `meta-data`; built-in agents declare it directly.
 */
import { childElement, childElements, parseXml, type XmlElement } from "./xml.js";

export interface AgentParameter {
  name: string;
  required: boolean;
  /** Two resources must not share a value (an IP address, a state file). */
  unique: boolean;
  /** OCF content type: string, integer, boolean, ... ("string" when unstated). */
  type: string;
  default?: string;
  shortDescription?: string;
  deprecated?: boolean;
  /** The older name this parameter replaces (fence-agents: `ip` obsoletes `ipaddr`). */
  obsoletes?: string;
}

export interface AgentAction {
  name: string;
  timeoutMs?: number;
  intervalMs?: number;
  depth?: number;
  role?: string;
}

export interface AgentMetadata {
  /** The agent's own name (`Dummy`, `vip`). */
  name: string;
  version?: string;
  shortDescription?: string;
  parameters: AgentParameter[];
  actions: AgentAction[];
  /**
   * False when the agent does not describe its parameters (exec scripts without `meta-data`,
   * LSB scripts, systemd units): validation then cannot flag unknown parameters.
   */
  describesParameters: boolean;
}

export class MetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetadataError";
  }
}

/** Parses OCF meta-data XML (`<resource-agent>` with `<parameters>` and `<actions>`). */
export function parseOcfMetadata(xml: string): AgentMetadata {
  const root = parseXml(xml);
  if (root.name !== "resource-agent") {
    throw new MetadataError(`meta-data root element is <${root.name}>, expected <resource-agent>`);
  }
  const name = root.attributes.name;
  if (!name) throw new MetadataError("<resource-agent> has no name attribute");
  const version = root.attributes.version ?? textOf(childElement(root, "version"));
  const shortDescription = textOf(childElement(root, "shortdesc"));
  const parametersElement = childElement(root, "parameters");
  const actionsElement = childElement(root, "actions");
  return {
    name,
    ...(version ? { version } : {}),
    ...(shortDescription ? { shortDescription } : {}),
    parameters: parametersElement
      ? childElements(parametersElement, "parameter").map(parseParameter)
      : [],
    actions: actionsElement ? childElements(actionsElement, "action").map(parseAction) : [],
    describesParameters: true,
  };
}

function parseParameter(element: XmlElement): AgentParameter {
  const name = element.attributes.name;
  if (!name) throw new MetadataError("a <parameter> has no name attribute");
  const content = childElement(element, "content");
  const shortDescription = textOf(childElement(element, "shortdesc"));
  const defaultValue = content?.attributes.default;
  return {
    name,
    required: isTrue(element.attributes.required),
    unique: isTrue(element.attributes.unique),
    type: content?.attributes.type ?? "string",
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    ...(shortDescription ? { shortDescription } : {}),
    ...(isTrue(element.attributes.deprecated) ? { deprecated: true } : {}),
    ...(element.attributes.obsoletes ? { obsoletes: element.attributes.obsoletes } : {}),
  };
}

function parseAction(element: XmlElement): AgentAction {
  const { name, timeout, interval, depth, role } = element.attributes;
  if (!name) throw new MetadataError("an <action> has no name attribute");
  const where = `action "${name}"`;
  return {
    name,
    ...(timeout === undefined ? {} : { timeoutMs: parseDurationMs(timeout, `${where} timeout`) }),
    ...(interval === undefined
      ? {}
      : { intervalMs: parseDurationMs(interval, `${where} interval`) }),
    ...(depth === undefined ? {} : { depth: parseInteger(depth, `${where} depth`) }),
    ...(role === undefined ? {} : { role }),
  };
}

const UNIT_MS: Record<string, number> = {
  "": 1000,
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
};

/** Pacemaker durations: a number with an optional unit (ms, s, m/min, h); bare numbers are seconds. */
export function parseDurationMs(text: string, where: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unitMs = match ? UNIT_MS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unitMs === undefined) {
    throw new MetadataError(`${where}: "${text}" is not a duration (e.g. 20s, 500ms, 2min)`);
  }
  return Math.round(Number(match[1]) * unitMs);
}

function parseInteger(text: string, where: string): number {
  if (!/^\s*-?\d+\s*$/.test(text)) throw new MetadataError(`${where}: "${text}" is not an integer`);
  return Number.parseInt(text, 10);
}

function isTrue(value: string | undefined): boolean {
  return value === "1" || value === "true" || value === "yes";
}

function textOf(element: XmlElement | undefined): string | undefined {
  const text = element?.text.trim();
  return text ? text.replace(/\s+/g, " ") : undefined;
}

/**
 * Problems with a resource's parameters against its agent's meta-data: missing required ones and,
 * when the agent describes its parameters, unknown ones. Each message names the parameter.
 * `alsoAccepted`: names every agent of its kind takes besides its own (OCF's `trace_ra`).
 */
export function checkParameters(
  metadata: AgentMetadata,
  params: Readonly<Record<string, string>>,
  alsoAccepted: readonly string[] = [],
): string[] {
  return [
    ...missingParameters(metadata, params),
    ...unknownParameters(metadata, params, alsoAccepted),
  ];
}

export function missingParameters(
  metadata: AgentMetadata,
  params: Readonly<Record<string, string>>,
): string[] {
  return metadata.parameters
    .filter((parameter) => parameter.required && !(parameter.name in params))
    .map((parameter) => `missing required parameter "${parameter.name}" (agent ${metadata.name})`);
}

export function unknownParameters(
  metadata: AgentMetadata,
  params: Readonly<Record<string, string>>,
  alsoAccepted: readonly string[] = [],
): string[] {
  if (!metadata.describesParameters) return [];
  const known = new Set(metadata.parameters.map((parameter) => parameter.name));
  const list = [...known].join(", ") || "none";
  return Object.keys(params)
    .filter((name) => !known.has(name) && !alsoAccepted.includes(name))
    .map((name) => `unknown parameter "${name}" (agent ${metadata.name} accepts: ${list})`);
}
