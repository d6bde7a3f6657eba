/**
 * The built-in `vip` agent: a virtual IP address, Heartbeat's IPaddr. start adds the address and
 * announces it with gratuitous ARP so that neighbours stop sending to the previous owner; stop
 * removes it; monitor checks it is on the interface. Parameters:
 *   address          IPv4 or IPv6 with /prefix (required when a document is applied;
 *                    documents applied earlier without one get /32, /128)
 *   interface        optional: else the interface whose subnet contains the address
 *   arp_count        gratuitous ARPs to send (default 5; the first before start returns)
 *   arp_interval_ms  between them (default 200)
 *   arp_refresh_ms   a monitor that finds the address announces it again when the last
 *                    announcement is this old (default 5000; 0: never): announcements sent
 *                    while this node was cut off reached no one, and a neighbour that cached
 *                    the previous owner would otherwise wait for its ARP entry to expire
 * IPv6 sends nothing extra: no NDP sender is installed (ndisc6); neighbours learn the address
 * from the kernel's DAD and, where net.ipv6.conf.<if>.ndisc_notify=1, its unsolicited NA.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { AgentRef } from "../../../resource-model/types.js";
import {
  addressValue,
  subnetContains,
  type VipAddress,
} from "../../../resource-model/vip-address.js";
import { readVipParams, type VipConfig } from "../../../resource-model/vip-params.js";
import { findProgram } from "../../executor/program-path.js";
import type { ActionOutcome, AgentContext, MonitorOutcome, ResourceAgent } from "../agent.js";
import { AgentFailure, answering, BUILT_IN_ACTIONS } from "../built-in.js";
import type { AgentMetadata } from "../metadata.js";
import {
  OCF_ERR_ARGS,
  OCF_ERR_CONFIGURED,
  OCF_ERR_GENERIC,
  OCF_ERR_INSTALLED,
  OCF_SUCCESS,
} from "../ocf-codes.js";
import { exitReason } from "../script-outcome.js";
import { type InterfaceAddresses, parseIpAddrJson } from "./ip-json.js";

/** One arping -c 1 -U needs no reply; seconds mean it hangs. */
const ARPING_TIMEOUT_MS = 5_000;

export const VIP_METADATA: AgentMetadata = {
  name: "vip",
  version: "1.0",
  shortDescription: "Virtual IP address with gratuitous ARP",
  parameters: [
    { name: "address", required: true, unique: true, type: "string" },
    { name: "interface", required: false, unique: false, type: "string" },
    { name: "arp_count", required: false, unique: false, type: "integer", default: "5" },
    { name: "arp_interval_ms", required: false, unique: false, type: "integer", default: "200" },
    { name: "arp_refresh_ms", required: false, unique: false, type: "integer", default: "5000" },
  ],
  actions: BUILT_IN_ACTIONS,
  describesParameters: true,
};

export class VipAgent implements ResourceAgent {
  readonly ref: AgentRef = { kind: "vip", name: "vip" };
  /** Announcements still being repeated after start returned, per resource: stop ends them. */
  private readonly announcements = new Map<
    string,
    { cancel: AbortController; done: Promise<void> }
  >();
  /** When this agent last announced each resource's address (its own monotonic clock). */
  private readonly lastAnnouncedAtMs = new Map<string, number>();

  constructor(
    private readonly nowMs: () => number = () => performance.now(),
    /** Where arping is looked for (the agent's PATH: its children's too). */
    private readonly searchPath: string = process.env.PATH ?? "",
  ) {}

  async metaData(): Promise<AgentMetadata> {
    return VIP_METADATA;
  }

  async start(ctx: AgentContext): Promise<ActionOutcome> {
    return answering(async () => {
      const config = readConfig(ctx);
      await this.cancelAnnouncements(ctx.resourceId);
      const interfaces = await listInterfaces(ctx, config.interfaceName);
      const existing = findAddress(interfaces, config.vip);
      const interfaceName =
        existing?.name ?? config.interfaceName ?? findSubnet(interfaces, config.vip);
      if (!interfaces.some((entry) => entry.name === interfaceName)) {
        throw new AgentFailure(
          OCF_ERR_ARGS,
          `interface ${interfaceName} does not exist on this node`,
        );
      }
      const announces = config.vip.family === 4 && config.arpCount > 0;
      if (announces && (await findProgram("arping", this.searchPath)) === undefined) {
        // Without the announcement every client keeps sending to the old owner's MAC until
        // its ARP cache forgets it (minutes): a takeover that looks done and serves nobody.
        throw new AgentFailure(
          OCF_ERR_INSTALLED,
          `arping is not installed (searched PATH: ${this.searchPath || "empty"}): without a gratuitous ARP, clients keep sending to the previous holder until their ARP caches expire; install it (Debian: iputils-arping) or set arp_count: 0 where neighbours learn otherwise`,
        );
      }
      if (!existing) {
        const added = await ctx.run({
          file: "ip",
          args: [
            "addr",
            "add",
            `${config.vip.address}/${config.vip.prefixLength}`,
            "dev",
            interfaceName,
          ],
        });
        // "File exists": added meanwhile by someone else, which is the state start wants.
        if (added.exitCode !== 0 && !added.stderrTail.includes("File exists")) {
          throw new AgentFailure(
            added.spawnError ? OCF_ERR_INSTALLED : OCF_ERR_GENERIC,
            `ip addr add ${config.vip.address}/${config.vip.prefixLength} dev ${interfaceName} failed: ${detail(added)}${familyHint(interfaces, interfaceName, config.vip)}`,
          );
        }
      }
      if (!announces) return { code: OCF_SUCCESS };
      // The first announcement goes out at once, but start does not wait for it: arping
      // lingers for its one-second interval after sending, and the address already answers.
      this.repeatAnnouncements(ctx, config, interfaceName);
      return { code: OCF_SUCCESS };
    });
  }

  async stop(ctx: AgentContext): Promise<ActionOutcome> {
    return answering(async () => {
      const config = readConfig(ctx);
      await this.cancelAnnouncements(ctx.resourceId);
      const interfaces = await listInterfaces(ctx, config.interfaceName);
      const holder = findAddress(interfaces, config.vip);
      if (!holder) return { code: OCF_SUCCESS };
      const removed = await ctx.run({
        file: "ip",
        args: ["addr", "del", `${holder.local}/${holder.prefixLength}`, "dev", holder.name],
      });
      // "Cannot assign requested address": already gone, which is what stop wants.
      if (removed.exitCode !== 0 && !removed.stderrTail.includes("Cannot assign requested")) {
        throw new AgentFailure(
          OCF_ERR_GENERIC,
          `ip addr del ${holder.local} failed: ${detail(removed)}`,
        );
      }
      return { code: OCF_SUCCESS };
    });
  }

  async monitor(ctx: AgentContext): Promise<MonitorOutcome> {
    const outcome = await answering(async () => {
      const config = readConfig(ctx);
      const holder = findAddress(await listInterfaces(ctx, config.interfaceName), config.vip);
      if (!holder) return { state: "not_running" } as const;
      if (holder.dadFailed) {
        throw new AgentFailure(
          OCF_ERR_GENERIC,
          `${config.vip.address}: another host owns this address (IPv6 DAD failed)`,
        );
      }
      this.refreshAnnouncement(ctx, config, holder.name);
      return { state: "running" } as const;
    });
    if ("state" in outcome) return outcome;
    return { state: "failed", code: outcome.code, reason: outcome.reason ?? "monitor failed" };
  }

  /** arpCount announcements, the first at once, then every arpIntervalMs; stop cancels them. */
  private repeatAnnouncements(ctx: AgentContext, config: VipConfig, interfaceName: string): void {
    const cancel = new AbortController();
    const run: AgentContext["run"] = (command) =>
      ctx.runner.run({ ...command, signal: cancel.signal });
    const done = (async () => {
      for (let sent = 0; sent < config.arpCount && !cancel.signal.aborted; sent++) {
        if (sent > 0) {
          try {
            await sleep(config.arpIntervalMs, undefined, { signal: cancel.signal });
          } catch {
            return; // cancelled by stop or a new start
          }
        }
        // Each arping is started without waiting for the previous one to linger out.
        this.lastAnnouncedAtMs.set(ctx.resourceId, this.nowMs());
        void arping(run, interfaceName, config.vip.address);
      }
    })();
    const entry = { cancel, done };
    this.announcements.set(ctx.resourceId, entry);
    void done.finally(() => {
      if (this.announcements.get(ctx.resourceId) === entry)
        this.announcements.delete(ctx.resourceId);
    });
  }

  /** One more announcement from a monitor when the last is arpRefreshMs old (arp_refresh_ms). */
  private refreshAnnouncement(ctx: AgentContext, config: VipConfig, interfaceName: string): void {
    if (config.vip.family === 6 || config.arpRefreshMs === 0) return;
    if (this.announcements.has(ctx.resourceId)) return; // start's own are still going out
    const nowMs = this.nowMs();
    const lastMs = this.lastAnnouncedAtMs.get(ctx.resourceId);
    if (lastMs !== undefined && nowMs - lastMs < config.arpRefreshMs) return;
    this.lastAnnouncedAtMs.set(ctx.resourceId, nowMs);
    void arping(ctx.runner.run.bind(ctx.runner), interfaceName, config.vip.address);
  }

  private async cancelAnnouncements(resourceId: string): Promise<void> {
    const entry = this.announcements.get(resourceId);
    if (!entry) return;
    entry.cancel.abort();
    await entry.done;
  }
}

function readConfig(ctx: AgentContext): VipConfig {
  try {
    return readVipParams(ctx.params);
  } catch (error) {
    throw new AgentFailure(
      OCF_ERR_CONFIGURED,
      `resource ${ctx.resourceId} (vip): ${(error as Error).message}`,
    );
  }
}

/** All interfaces, or only `interfaceName` (none when it does not exist). */
async function listInterfaces(
  ctx: AgentContext,
  interfaceName?: string,
): Promise<InterfaceAddresses[]> {
  const args = ["-j", "addr", "show", ...(interfaceName ? ["dev", interfaceName] : [])];
  const shown = await ctx.run({ file: "ip", args });
  if (shown.spawnError)
    throw new AgentFailure(
      OCF_ERR_INSTALLED,
      `cannot run ip (iproute2): ${shown.spawnError.message}`,
    );
  if (shown.exitCode !== 0) {
    if (interfaceName && shown.stderrTail.includes("does not exist")) return [];
    throw new AgentFailure(OCF_ERR_GENERIC, `ip ${args.join(" ")} failed: ${detail(shown)}`);
  }
  try {
    return parseIpAddrJson(shown.stdout);
  } catch (error) {
    throw new AgentFailure(OCF_ERR_GENERIC, `ip ${args.join(" ")}: ${(error as Error).message}`);
  }
}

/**
 * Why adding the address may have failed where the interface has no address of its family
 * (IPv6 disabled on it, typically): only the node can know, so start says it.
 */
function familyHint(interfaces: InterfaceAddresses[], name: string, vip: VipAddress): string {
  const entry = interfaces.find((candidate) => candidate.name === name);
  if (entry === undefined || entry.addresses.some((address) => address.family === vip.family)) {
    return "";
  }
  return ` (interface ${name} has no IPv${vip.family} address on this node${vip.family === 6 ? ": is IPv6 disabled on it?" : ""})`;
}

function findAddress(interfaces: InterfaceAddresses[], vip: VipAddress) {
  for (const entry of interfaces) {
    for (const address of entry.addresses) {
      if (address.family === vip.family && addressValue(address.local, vip.family) === vip.value) {
        return { name: entry.name, ...address };
      }
    }
  }
  return undefined;
}

function findSubnet(interfaces: InterfaceAddresses[], vip: VipAddress): string {
  for (const entry of interfaces) {
    for (const address of entry.addresses) {
      if (
        address.family === vip.family &&
        subnetContains(
          addressValue(address.local, vip.family),
          address.prefixLength,
          vip.value,
          vip.family,
        )
      ) {
        return entry.name;
      }
    }
  }
  throw new AgentFailure(
    OCF_ERR_ARGS,
    `no interface on this node has a subnet containing ${vip.address}: set the "interface" parameter`,
  );
}

/** One unsolicited ARP (source and target both the VIP); returns why it failed, if it did. */
async function arping(
  run: AgentContext["run"],
  interfaceName: string,
  address: string,
): Promise<string | undefined> {
  const sent = await run({
    file: "arping",
    args: ["-U", "-c", "1", "-I", interfaceName, address],
    timeoutMs: ARPING_TIMEOUT_MS,
  });
  return sent.exitCode === 0 ? undefined : `arping: ${detail(sent)}`;
}

function detail(process: {
  exitCode: number | null;
  stderrTail: string;
  spawnError?: { message: string };
}): string {
  if (process.spawnError) return process.spawnError.message;
  return exitReason(process.stderrTail) ?? `exit ${process.exitCode}`;
}
