/**
 * Names and addresses of one lab: pure functions, so the topology plan can be checked without root.
 * Every kernel object a lab creates carries the lab id, so parallel runs never collide and a
 * leftover is recognisable by its name alone.
 */

/** 198.18.0.0/15 is reserved for benchmarking (RFC 2544): never routed, never a real network. */
const ADDRESS_PREFIX = "198.18";
/** Cluster hosts take .1 to .100 of a link's /24; clients take .101 and up. */
export const MAX_HOSTS = 100;
export const MAX_CLIENTS = 100;
export const CLIENT_FIRST_OCTET = 101;
export const MAX_LINKS = 2;

/** "vg" + 5 hex chars: 20 random bits; a clash is caught when the switch namespace is claimed. */
const LAB_ID_PATTERN = /^vg[0-9a-f]{5}$/;

export type HostKind = "node" | "client";

export interface LabOptions {
  /** Cluster hosts, indices 0..hosts-1, attached to every link. */
  hosts: number;
  /** Links (one bridge each); 1 or 2. Default 1. */
  links?: number;
  /** Extra hosts on link 0 only, indices hosts..hosts+clients-1, addresses 198.18.0.(101+j). */
  clients?: number;
}

export interface HostPlan {
  index: number;
  kind: HostKind;
  /** Index within its kind: host i, or client j. */
  ordinal: number;
  ns: string;
  /** Links this host is attached to (clients: only link 0). */
  links: readonly number[];
}

export interface LabPlan {
  id: string;
  linkCount: number;
  switchNs: string;
  hosts: readonly HostPlan[];
}

export function labIdFromRandom(randomBytes: Uint8Array): string {
  if (randomBytes.length < 3) throw new Error("labIdFromRandom needs at least 3 random bytes");
  const hex = Buffer.from(randomBytes.subarray(0, 3)).toString("hex").slice(0, 5);
  return `vg${hex}`;
}

/**
 * True for every namespace and switch port name a lab creates ("<id>-..."): the leftover sweep
 * removes exactly these, never another run's objects.
 */
export function belongsToLab(labId: string, name: string): boolean {
  return name.startsWith(`${labId}-`);
}

export function device(link: number): string {
  return `eth${link}`;
}

export function bridgeName(link: number): string {
  return `br${link}`;
}

export function subnet(link: number): string {
  return `${ADDRESS_PREFIX}.${link}.0/24`;
}

/** The switch-side end of a host's veth; at most 13 chars ("vgab12c-c99l1"), under IFNAMSIZ 15. */
export function switchPortName(labId: string, host: HostPlan, link: number): string {
  const prefix = host.kind === "node" ? "h" : "c";
  return `${labId}-${prefix}${host.ordinal}l${link}`;
}

export function checkHostLink(host: HostPlan, link: number): void {
  if (!host.links.includes(link)) {
    throw new Error(
      `lab host ${host.index} (${host.kind}) has no link ${link}; it is attached to links [${host.links.join(", ")}]`,
    );
  }
}

function lastOctet(host: HostPlan): number {
  return host.kind === "node" ? host.ordinal + 1 : CLIENT_FIRST_OCTET + host.ordinal;
}

export function hostAddress(host: HostPlan, link: number): string {
  checkHostLink(host, link);
  return `${ADDRESS_PREFIX}.${link}.${lastOctet(host)}`;
}

/**
 * A fixed, locally administered MAC per (host, link), derived from the address, so every host can
 * be given its peers' neighbour entries up front.
 */
export function hostMac(host: HostPlan, link: number): string {
  checkHostLink(host, link);
  const hex = (value: number) => value.toString(16).padStart(2, "0");
  return `02:00:c6:12:${hex(link)}:${hex(lastOctet(host))}`;
}

/**
 * `ip -batch` lines giving `host` a permanent neighbour entry for every other host on its links.
 * ARP then never crosses a cut, so a one-way cut stays one-way however long it lasts (with
 * dynamic ARP, the cut side's replies or requests vanish and the entry expires after ~30 s,
 * turning it into a two-way cut).
 */
export function neighbourBatch(plan: LabPlan, host: HostPlan): string {
  const lines: string[] = [];
  for (const link of host.links) {
    for (const peer of plan.hosts) {
      if (peer === host || !peer.links.includes(link)) continue;
      lines.push(
        `neigh replace ${hostAddress(peer, link)} lladdr ${hostMac(peer, link)} dev ${device(link)} nud permanent`,
      );
    }
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** nft table holding the faults of one link, in the host's namespace. */
export function hostFaultTable(link: number): string {
  return `vigil_lab_${device(link)}`;
}

/** nft table holding the outbound faults of one host port, in the switch namespace. */
export function switchFaultTable(labId: string, host: HostPlan, link: number): string {
  return `vigil_lab_${switchPortName(labId, host, link).replace("-", "_")}`;
}

export function planLab(labId: string, options: LabOptions): LabPlan {
  if (!LAB_ID_PATTERN.test(labId))
    throw new Error(`lab id "${labId}" must match ${LAB_ID_PATTERN}`);
  const linkCount = options.links ?? 1;
  const clients = options.clients ?? 0;
  checkCount("hosts", options.hosts, 1, MAX_HOSTS);
  checkCount("links", linkCount, 1, MAX_LINKS);
  checkCount("clients", clients, 0, MAX_CLIENTS);
  const allLinks = Array.from({ length: linkCount }, (_, link) => link);
  const hosts: HostPlan[] = [];
  for (let i = 0; i < options.hosts; i++) {
    hosts.push({ index: i, kind: "node", ordinal: i, ns: `${labId}-h${i}`, links: allLinks });
  }
  for (let j = 0; j < clients; j++) {
    hosts.push({
      index: options.hosts + j,
      kind: "client",
      ordinal: j,
      ns: `${labId}-c${j}`,
      links: [0],
    });
  }
  return { id: labId, linkCount, switchNs: `${labId}-sw`, hosts };
}

function checkCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`lab option ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}
