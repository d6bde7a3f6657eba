import { z } from "zod";
import { selfFenceArgv } from "./command-line.js";
import { parseHostPort } from "./host-port.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const nodeName = z.string().regex(NAME, "expected a node name");
const deviceName = z.string().regex(NAME, "expected a fence device name such as ipmi-db1");

const fenceActionSchema = z.enum(["reboot", "off"]);

/**
 * A fence device: an agent speaking the fence-agents protocol (key=value lines on stdin, exit
 * code 0 for success), e.g. Debian's fence_ipmilan, or `exec:/path` for a script of one's own.
 */
export const fenceDeviceSchema = z.strictObject({
  /** "fence_ipmilan" (looked up in /usr/sbin, /sbin, /usr/bin) or "exec:/path/to/agent". */
  agent: z
    .string()
    .regex(
      /^(fence_[A-Za-z0-9_]+|exec:\/.+)$/,
      "expected a fence agent such as fence_ipmilan, or exec:/path/to/agent",
    ),
  /** Passed to the agent as key=value lines (ip, username, password, lanplus, ...). */
  params: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]*$/, "expected a parameter name such as ip"),
      z.string(),
    )
    .default({}),
  /** The nodes this device can fence, each with its plug ("" for a device that fences one node). */
  targets: z.record(nodeName, z.string()),
  /** How long one agent run may take; the default is fencing.timeout_ms. */
  timeout_ms: z.number().int().min(100).max(600_000).optional(),
  /**
   * What this device is asked when it fences, instead of fencing.action: `off` for a device
   * that cannot reboot (fence_kdump), or that must leave the node off whatever the cluster does.
   */
  action: fenceActionSchema.optional(),
});

export const fencingSchema = z.strictObject({
  /** Fence a lost node before its resources run elsewhere. Default: on when devices exist. */
  enabled: z.boolean().optional(),
  action: fenceActionSchema.default("reboot"),
  timeout_ms: z.number().int().min(100).max(600_000).default(60_000),
  devices: z.record(deviceName, fenceDeviceSchema).default({}),
  /**
   * Per node, levels of devices: all devices of level 1 must succeed, else level 2 is tried, ...
   * Default: each device that targets the node, in name order, is a level of its own.
   */
  levels: z.record(nodeName, z.array(z.array(deviceName).min(1)).min(1)).default({}),
  /**
   * Each node runs `monitor` on the devices it may fence with when it starts and then this
   * often, so a broken device is seen before it is needed (Pacemaker's stonith monitor: 60 s).
   * 0: only at start and by `vigil fence check`.
   */
  monitor_interval_ms: z
    .number()
    .int()
    .max(86_400_000, "expected 0 (only at start) or 1000 to 86400000 milliseconds")
    .refine((ms) => ms === 0 || ms >= 1_000, {
      message: "expected 0 (only at start) or 1000 to 86400000 milliseconds",
    })
    .default(60_000),
  /**
   * Wait this long before fencing the node: in a two-node cluster, give the node that should
   * survive a fence race a delay, so its peer is shot first when both try.
   */
  delay_ms: z.record(nodeName, z.number().int().min(0).max(600_000)).default({}),
});

const connectivityTarget = z.union([
  z.strictObject({ icmp: z.string().min(1) }),
  z.strictObject({
    // The same parser the probe uses: a port 0 or 70000 passed the pattern and never answered.
    tcp: z
      .string()
      .refine((text) => parseHostPort(text) !== null, "expected host:port with a port in 1..65535"),
  }),
  z.strictObject({ http: z.string().url("expected a URL such as http://10.0.0.1/health") }),
]);

/**
 * Heartbeat's ping nodes / ipfail: every node checks the targets and publishes how many answer
 * as a node attribute; location rules on it move resources away from a node that lost its
 * upstream.
 */
export const connectivitySchema = z.strictObject({
  targets: z.array(connectivityTarget).min(1, "expected at least one target"),
  interval_ms: z.number().int().min(100).max(600_000).default(2_000),
  timeout_ms: z.number().int().min(50).max(60_000).default(1_000),
  /** The node attribute that holds the number of targets that answered. */
  attribute: z.string().regex(NAME, "expected an attribute name").default("connectivity"),
});

/**
 * The node guard: a separate process (`vigil guard`, on by default) that, when the agent dies or
 * hangs while resources may run here, kills it and stops those resources before the leader may
 * start them elsewhere, runs the self-fence `action` only if that fails, and feeds a hardware
 * watchdog (`device`) while it is healthy. systemd's WatchdogSec needs no key: the
 * agent pings whenever systemd asks for it ($WATCHDOG_USEC).
 */
export const watchdogSchema = z
  .strictObject({
    lease_guard: z.boolean().default(true),
    /** The self-fence command the guard runs when it cannot stop what the node held. */
    action: z
      .string()
      .min(1)
      .default("systemctl reboot --force --force")
      .superRefine((action, context) => {
        const parsed = selfFenceArgv(action);
        if (!parsed.ok) context.addIssue({ code: "custom", message: parsed.error });
      }),
    /**
     * A watchdog device the guard feeds (e.g. /dev/watchdog); none by default, and no "auto":
     * an open watchdog resets the machine when it is not fed, which must be chosen, not found.
     * Its existence is checked when the agent starts (the file may be validated elsewhere).
     */
    device: z.string().regex(/^\/./, "expected an absolute path such as /dev/watchdog").optional(),
  })
  .superRefine((watchdog, context) => {
    if (watchdog.device !== undefined && !watchdog.lease_guard) {
      context.addIssue({
        code: "custom",
        path: ["device"],
        message:
          "a watchdog device is fed by the lease guard: set watchdog.lease_guard: true as well",
      });
    }
  });

/**
 * What a node does when it loses its lease (quorum): see docs/configuration.md. Unset: `stop`, or
 * `freeze` in two-node mode (safety-modes.ts).
 */
export const noQuorumPolicySchema = z.enum(["stop", "freeze", "ignore", "suicide"]);

export type FencingConfig = z.output<typeof fencingSchema>;
export type FenceDeviceConfig = z.output<typeof fenceDeviceSchema>;
export type ConnectivityConfig = z.output<typeof connectivitySchema>;
export type NoQuorumPolicy = z.output<typeof noQuorumPolicySchema>;
export type WatchdogConfig = z.output<typeof watchdogSchema>;
