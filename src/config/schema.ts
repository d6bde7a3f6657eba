import { z } from "zod";
import { apiSchema, listenAddressSchema } from "./api-schema.js";
import {
  connectivitySchema,
  fencingSchema,
  type NoQuorumPolicy,
  noQuorumPolicySchema,
  watchdogSchema,
} from "./safety-schema.js";
import { sentinelListenSchema, sentinelSchema } from "./sentinel-schema.js";
import { socketPathTooLong } from "./socket-path.js";

/**
 * The configuration schema: one YAML file describes the whole cluster and is the same on every
 * node; each agent finds itself in `nodes` by name (hostname, or `vigil agent --node NAME`).
 * Knobs carry their unit in their name. Cross-field rules (timing relations, address/link
 * consistency) live in validate.ts so that each message can name the offending key.
 */

const LINK_NAME = /^[a-z][a-z0-9_-]{0,30}$/;
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const port = z.number().int().min(1).max(65535);
/** Relative paths would depend on the directory the agent happened to be started from. */
const absolutePath = (example: string) =>
  z.string().startsWith("/", `expected an absolute path such as ${example}`);
const ipv4 = z.ipv4({ message: "expected an IPv4 address such as 198.18.0.1" });

export const ucastLinkSchema = z.strictObject({
  name: z.string().regex(LINK_NAME, "expected a lowercase link name such as ring0"),
  type: z.literal("ucast"),
  /** UDP port every node listens on unless the node overrides it. 694 is Heartbeat's port. */
  port: port.default(694),
});

export const mcastLinkSchema = z.strictObject({
  name: z.string().regex(LINK_NAME, "expected a lowercase link name such as ring0"),
  type: z.literal("mcast"),
  group: z.ipv4({ message: "expected an IPv4 multicast group such as 239.255.42.1" }),
  port: port.default(694),
  /** 1 keeps heartbeats on the local segment, which is where cluster peers should be. */
  ttl: z.number().int().min(1).max(255).default(1),
  /** Loop our own datagrams back: only useful when several agents share one host (tests). */
  loopback: z.boolean().default(false),
});

export const bcastLinkSchema = z.strictObject({
  name: z.string().regex(LINK_NAME, "expected a lowercase link name such as ring0"),
  type: z.literal("bcast"),
  port: port.default(694),
});

export const serialLinkSchema = z.strictObject({
  name: z.string().regex(LINK_NAME, "expected a lowercase link name such as ring0"),
  type: z.literal("serial"),
  /** 115200 is what every modern UART and USB adapter does; a heartbeat frame takes ~7 ms. */
  baud: z
    .number()
    .int()
    .refine((b) => SERIAL_BAUD_RATES.includes(b), {
      message: "expected a standard baud rate (9600, 19200, 38400, 57600, 115200, 230400)",
    })
    .default(115200),
});

export const SERIAL_BAUD_RATES: readonly number[] = [9600, 19200, 38400, 57600, 115200, 230400];

export const linkSchema = z.discriminatedUnion("type", [
  ucastLinkSchema,
  mcastLinkSchema,
  bcastLinkSchema,
  serialLinkSchema,
]);

/** How one node attaches to one link. */
export const nodeLinkSchema = z.strictObject({
  /** The node's own address on this link (ucast, mcast, bcast). Peers send ucast here. */
  address: ipv4.optional(),
  /** Overrides the link's port for this node (several agents on one host, e.g. the demo). */
  port: port.optional(),
  /** Network interface for mcast/bcast (e.g. eth1). */
  interface: z.string().min(1).max(15).optional(),
  /** Serial device for serial links (e.g. /dev/ttyS0). */
  device: z
    .string()
    .startsWith("/", "expected an absolute device path such as /dev/ttyS0")
    .optional(),
});

export const nodeSchema = z.strictObject({
  id: z.number().int().min(1).max(65535),
  name: z.string().regex(NODE_NAME, "expected a host name such as alpha or node-1"),
  /** Quorum votes; quorum is a strict majority of all configured votes. */
  votes: z.number().int().min(1).max(255).default(1),
  /**
   * A witness (`vigil witness`): votes and keeps the replicated log but never leads and never
   * runs resources. It gives a two-node cluster its tie-breaking third vote.
   */
  witness: z.boolean().default(false),
  /** Map from link name to how this node attaches to that link. */
  links: z.record(z.string(), nodeLinkSchema),
  /** Where this node's API listens instead of api.listen (several agents on one host). */
  api_listen: listenAddressSchema.optional(),
  /** Where this node's Sentinel-protocol listener is instead of sentinel.listen. */
  sentinel_listen: sentinelListenSchema.optional(),
});

/**
 * Coordination timing per profile. A follower starts an election after a random silence in
 * [election_timeout_min_ms, election_timeout_max_ms) from the leader; a lease lasts lease_ms
 * and, with the drift margin, must end before any other node can be elected:
 * lease_ms × (1 + clock_drift_ratio) < election_timeout_min_ms (see ARCHITECTURE.md).
 * default: five heartbeat intervals before an election, so a new leader is in place well within
 * a second after the old one is powered off. fast: the same ratios at a quarter of the time.
 * follower_lease_ms: how long a follower keeps its resources without hearing that its answers
 * reach the leader. When the leader dies, a follower's lease was given a heartbeat or two before;
 * it must outlast the longest election after that (election_timeout_max_ms plus a few round
 * trips), or the followers stop their resources because the leader died (with 800 ms elections
 * the margin was under 50 ms, which a busy host's late timers can eat). About the deadtime, so it
 * seldom delays the takeover of a lost follower's resources. FOLLOWER_LEASE_SPARE_MS is what the
 * lease may lose to its stop margin.
 */
/** The most a follower's resources stop before its lease ends (takeover/node-coordination.ts). */
export const FOLLOWER_LEASE_SPARE_MS = 50;

export const COORDINATION_PROFILES = {
  default: {
    election_timeout_min_ms: 500,
    election_timeout_max_ms: 700,
    lease_ms: 450,
    follower_lease_ms: 1000,
  },
  fast: {
    election_timeout_min_ms: 150,
    election_timeout_max_ms: 200,
    lease_ms: 130,
    follower_lease_ms: 300,
  },
} as const;

export const TIMING_PROFILES = {
  /**
   * default: a heartbeat every 100 ms and death after 900 ms of silence on every link. Nine
   * consecutive losses on every link at 20% loss on two links is 0.04^9 ≈ 3e-13 per interval,
   * so no false deaths; detection after power-off is 800–900 ms (+ scheduling), under the 1 s
   * target. Idle cost: 10 datagrams/s per peer per link.
   */
  default: { keepalive_ms: 100, warntime_ms: 400, deadtime_ms: 900, initdead_ms: 10_000 },
  /**
   * fast: for dedicated links. Ten missed heartbeats (25 ms apart) before death; 0.04^10 at 20%
   * loss on two links is still negligible. Detection 225–250 ms. Costs 4x the packets.
   */
  fast: { keepalive_ms: 25, warntime_ms: 100, deadtime_ms: 250, initdead_ms: 5_000 },
} as const;

export type TimingProfileName = keyof typeof TIMING_PROFILES;

export const timingSchema = z.strictObject({
  /** Named starting point; explicit knobs below override it. */
  profile: z.enum(["default", "fast"]).default("default"),
  /** How often heartbeats are sent on every link. */
  keepalive_ms: z.number().int().min(5).max(60_000).optional(),
  /** Silence after which a late heartbeat is logged. */
  warntime_ms: z.number().int().min(5).max(600_000).optional(),
  /** Silence on every link after which a node is declared dead. */
  deadtime_ms: z.number().int().min(10).max(600_000).optional(),
  /** Grace for a node never heard since this agent started (boot, cluster start). */
  initdead_ms: z.number().int().min(10).max(3_600_000).optional(),
});

export const detectorSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("fixed") }),
  z.strictObject({
    type: z.literal("phi"),
    /** phi = -log10(P(a heartbeat is this late)). 8 means a 1e-8 chance of a false suspicion. */
    phi_threshold: z.number().min(1).max(16).default(8),
    /** Suspicion level that logs a late heartbeat. */
    phi_warn: z.number().min(0.5).max(16).default(3),
    /** Inter-arrival samples kept per peer and link. */
    window_size: z.number().int().min(10).max(10_000).default(200),
    /** Floor under the measured deviation, so a very regular sender is not declared dead after one lost packet. */
    min_std_ms: z.number().min(1).max(60_000).default(50),
    /** Silence tolerated on top of the distribution (GC pauses, a burst of loss). */
    acceptable_pause_ms: z.number().min(0).max(600_000).default(200),
  }),
]);

export const coordinationSchema = z.strictObject({
  /** Overrides of the profile's election and lease timing (see COORDINATION_PROFILES). */
  election_timeout_min_ms: z.number().int().min(10).max(60_000).optional(),
  election_timeout_max_ms: z.number().int().min(10).max(120_000).optional(),
  lease_ms: z.number().int().min(5).max(60_000).optional(),
  follower_lease_ms: z.number().int().min(5).max(600_000).optional(),
  /**
   * How much faster one node's clock may run than another's: 0.02 = 2%, two hundred times what a
   * quartz clock drifts (0.01%), and NTP slews by at most 0.05%.
   */
  clock_drift_ratio: z.number().min(0).max(1).default(0.02),
  /** At cold start, act only once every node has been seen (configurable, like corosync's wait_for_all). */
  wait_for_all: z.boolean().default(true),
});

export const keysSchema = z.strictObject({
  /** Key file written by `vigil keygen`; must not be readable by group or others. */
  file: absolutePath("/etc/vigil/authkeys").default("/etc/vigil/authkeys"),
  /** Key id to sign with; the newest (highest id) when absent. Pin it while rolling a new key out. */
  sign_key_id: z.number().int().min(1).max(255).optional(),
  /** Encrypt payloads with AES-256-GCM (headers stay readable, everything is authenticated). */
  encrypt: z.boolean().default(false),
});

export const configSchema = z.strictObject({
  cluster: z.strictObject({
    name: z.string().regex(NODE_NAME, "expected a cluster name such as prod-db"),
    /** 32-bit cluster id on the wire; derived from the name when absent. */
    id: z.number().int().min(1).max(0xffff_ffff).optional(),
  }),
  nodes: z.array(nodeSchema).min(1, "expected at least one node"),
  links: z.array(linkSchema).min(1, "expected at least one link"),
  timing: timingSchema.default({ profile: "default" }),
  detector: detectorSchema.default({ type: "fixed" }),
  coordination: coordinationSchema.default({ clock_drift_ratio: 0.02, wait_for_all: true }),
  keys: keysSchema.default({ file: "/etc/vigil/authkeys", encrypt: false }),
  /** Where the agent keeps its incarnation counter and, later, its log and snapshots. */
  state_dir: absolutePath("/var/lib/vigil").default("/var/lib/vigil"),
  control: z
    .strictObject({
      /** Unix socket for `vigil status`; created mode 0600 in a 0700 directory (root only). */
      socket: absolutePath("/run/vigil/vigil.sock")
        .refine((path) => socketPathTooLong(path) === null, {
          error: (issue) => socketPathTooLong(String(issue.input)) ?? undefined,
        })
        .default("/run/vigil/vigil.sock"),
    })
    .default({ socket: "/run/vigil/vigil.sock" }),
  log: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
    })
    .default({ level: "info" }),
  /** The agent's own niceness (src/scheduling/priority.ts); what it runs keeps the original. */
  scheduling: z
    .strictObject({
      nice: z.number().int().min(-20).max(19).default(-10),
    })
    .default({ nice: -10 }),
  fencing: fencingSchema.default({
    action: "reboot",
    timeout_ms: 60_000,
    devices: {},
    levels: {},
    monitor_interval_ms: 60_000,
    delay_ms: {},
  }),
  no_quorum_policy: noQuorumPolicySchema.optional(),
  watchdog: watchdogSchema.default({
    lease_guard: true,
    action: "systemctl reboot --force --force",
  }),
  connectivity: connectivitySchema.optional(),
  /** The HTTP API over the network (docs/api.md); off when absent. */
  api: apiSchema.optional(),
  /** The Redis Sentinel protocol for clients (src/sentinel/); off when absent. */
  sentinel: sentinelSchema.optional(),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type LinkConfig = z.output<typeof linkSchema>;
export type NodeConfig = z.output<typeof nodeSchema>;
export type NodeLinkConfig = z.output<typeof nodeLinkSchema>;
export type DetectorConfig = z.output<typeof detectorSchema>;

/** Timing after the profile has been applied: every knob is known. */
export interface Timing {
  keepalive_ms: number;
  warntime_ms: number;
  deadtime_ms: number;
  initdead_ms: number;
}

/** Coordination timing after the profile has been applied. */
export interface CoordinationTiming {
  election_timeout_min_ms: number;
  election_timeout_max_ms: number;
  lease_ms: number;
  follower_lease_ms: number;
  clock_drift_ratio: number;
  wait_for_all: boolean;
}

/** The configuration the agent runs with: parsed, validated and resolved. */
export interface VigilConfig
  extends Omit<ParsedConfig, "timing" | "coordination" | "no_quorum_policy"> {
  timing: Timing & { profile: TimingProfileName };
  /** Resolved: see safety-modes.ts. */
  no_quorum_policy: NoQuorumPolicy;
  /** Two nodes, no witness, fencing: see safety-modes.ts. */
  twoNode: boolean;
  coordination: CoordinationTiming;
  clusterId: number;
}
