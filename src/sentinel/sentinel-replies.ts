import { createHash } from "node:crypto";
import { bulks, type RespValue } from "./resp.js";
import type { Instance, ServiceView } from "./sentinel-view.js";

/** What a Sentinel-protocol answer is made of, besides the services' views. */
export interface SentinelWorld {
  /** This listener's run id (Sentinel's myid): 40 hex digits. */
  runId: string;
  /** Every configured service, in the configuration's order. */
  services(): ServiceView[];
  /** The master last seen for a service, down or not (it is reported when none serves now). */
  lastMaster(name: string): Instance | null;
  /** How many times the master of a service moved since this agent started. */
  epoch(name: string): number;
  /** The other agents' Sentinel-protocol listeners. */
  sentinels(): SentinelPeer[];
  /** After this much silence a node is dead (the detector's deadtime): Sentinel's down-after. */
  downAfterMs: number;
}

export interface SentinelPeer {
  node: string;
  ip: string;
  port: number;
  runId: string;
  down: boolean;
}

/** A stable run id per cluster and node, so a client sees the same sentinel after a restart. */
export function sentinelRunId(cluster: string, node: string): string {
  return createHash("sha1").update(`vigil-sentinel\0${cluster}\0${node}`).digest("hex");
}

/** Fields a real Sentinel reports of every instance; Vigil has no pings of its own to count. */
const LINK_FIELDS = [
  ["link-pending-commands", "0"],
  ["link-refcount", "1"],
  ["last-ping-sent", "0"],
  ["last-ok-ping-reply", "0"],
  ["last-ping-reply", "0"],
] as const;

const flat = (pairs: ReadonlyArray<readonly [string, string]>): RespValue => bulks(pairs.flat());

const downFlags = (down: boolean) => (down ? ",s_down,o_down" : "");

/** `SENTINEL master NAME` and one entry of `SENTINEL masters`, in Sentinel's flat key/value form. */
export function masterReply(view: ServiceView, world: SentinelWorld): RespValue {
  const master = view.master ?? world.lastMaster(view.name);
  // No promoted copy now: the last master (or none) is shown down, so no client takes it.
  const down = view.master === null || view.master.down;
  const others = world.sentinels().length;
  return flat([
    ["name", view.name],
    ["ip", master?.ip ?? ""],
    ["port", String(master?.port ?? 0)],
    ["runid", ""],
    ["flags", `master${downFlags(down)}`],
    ...LINK_FIELDS,
    ["down-after-milliseconds", String(world.downAfterMs)],
    ["info-refresh", "0"],
    ["role-reported", "master"],
    ["role-reported-time", "0"],
    ["config-epoch", String(world.epoch(view.name))],
    ["num-slaves", String(view.replicas.length)],
    ["num-other-sentinels", String(others)],
    ["quorum", String(Math.floor((others + 1) / 2) + 1)],
    ["failover-timeout", "0"],
    ["parallel-syncs", "1"],
  ]);
}

/** One entry of `SENTINEL replicas NAME`. */
export function replicaReply(
  replica: Instance,
  master: Instance | null,
  world: SentinelWorld,
): RespValue {
  return flat([
    ["name", `${replica.ip}:${replica.port}`],
    ["ip", replica.ip],
    ["port", String(replica.port)],
    ["runid", ""],
    ["flags", `slave${replica.down ? ",s_down" : ""}`],
    ...LINK_FIELDS,
    ["down-after-milliseconds", String(world.downAfterMs)],
    ["info-refresh", "0"],
    ["role-reported", "slave"],
    ["role-reported-time", "0"],
    ["master-link-down-time", "0"],
    ["master-link-status", master === null || master.down ? "err" : "ok"],
    ["master-host", master?.ip ?? "?"],
    ["master-port", String(master?.port ?? 0)],
    ["slave-priority", "100"],
    ["slave-repl-offset", "0"],
    ["replica-announced", "1"],
  ]);
}

/** One entry of `SENTINEL sentinels NAME`: another agent's listener. */
export function sentinelReply(peer: SentinelPeer, world: SentinelWorld): RespValue {
  return flat([
    ["name", peer.runId],
    ["ip", peer.ip],
    ["port", String(peer.port)],
    ["runid", peer.runId],
    ["flags", `sentinel${peer.down ? ",s_down,disconnected" : ""}`],
    ...LINK_FIELDS,
    ["down-after-milliseconds", String(world.downAfterMs)],
    ["last-hello-message", "0"],
    ["voted-leader", "?"],
    ["voted-leader-epoch", "0"],
  ]);
}

/** `INFO`: the sections Sentinel clients and redis-cli read. */
export function infoText(world: SentinelWorld, section: string | undefined): string {
  const wanted = (name: string) =>
    section === undefined || ["all", "default", "everything", name].includes(section.toLowerCase());
  const lines: string[] = [];
  if (wanted("server"))
    lines.push(
      "# Server",
      "redis_version:7.0.0",
      "redis_mode:sentinel",
      `run_id:${world.runId}`,
      "",
    );
  if (wanted("sentinel")) {
    const views = world.services();
    lines.push(
      "# Sentinel",
      `sentinel_masters:${views.length}`,
      "sentinel_tilt:0",
      "sentinel_running_scripts:0",
      "sentinel_scripts_queue_length:0",
      ...views.map((view, index) => {
        const master = view.master ?? world.lastMaster(view.name);
        const status = view.master === null || view.master.down ? "odown" : "ok";
        const address = master === null ? "?:0" : `${master.ip}:${master.port}`;
        return `master${index}:name=${view.name},status=${status},address=${address},slaves=${view.replicas.length},sentinels=${world.sentinels().length + 1}`;
      }),
      "",
    );
  }
  return lines.join("\r\n");
}
