import type { ClusterPlan, LinkPlan, NodeAttachment, TimingPlan } from "../cluster-file.js";
import { ImportError, type ImportReport } from "../report.js";
import { heartbeatMs, isIpv4, type WordLine } from "../source-lines.js";

/** What ha.cf says that the haresources translation needs too. */
export interface HaCf {
  plan: Omit<ClusterPlan, "name">;
  /** auto_failback on (true), off (false), or not said (Heartbeat's default: legacy). */
  autoFailback: boolean | undefined;
  /** Whether ipfail runs: ping results then move resources. */
  ipfail: boolean;
}

/** ha.cf directives with no Vigil counterpart, and what the operator should know. */
const NOT_TRANSLATED: Record<string, string> = {
  logfile: "the agent logs to stderr (journald under systemd); no log file setting",
  debugfile:
    "the agent logs to stderr; `log.level: debug` (or `vigil agent --log-level debug`) for more",
  logfacility: "the agent logs to stderr, collected by journald under systemd; no syslog facility",
  use_logd: "no logging daemon: the agent logs to stderr",
  debug: "`log.level: debug` in the cluster file, or `vigil agent --log-level debug`",
  conn_logd_time: "no logging daemon",
  apiauth: "Vigil's control socket is root-only; its HTTP API has tokens (docs/api.md)",
  compression: "frames are small and not compressed",
  compression_threshold: "frames are small and not compressed",
  traditional_compression: "frames are small and not compressed",
  coredumps: "no setting: the agent's core dumps follow the system's (systemd-coredump)",
  autojoin:
    "nodes are the ones the cluster file lists; `vigil node add` changes the voting members",
  hopfudge: "no ring topology: every node hears every other directly",
  realtime: "`scheduling.nice` raises the agent's priority (default -10); no realtime scheduling",
  rtprio: "`scheduling.nice` raises the agent's priority (default -10); no realtime scheduling",
  msgfmt: "Vigil's frames have one binary format",
  uuidfrom: "nodes are identified by the id in the cluster file",
  max_rexmit_delay: "no retransmission requests: the replicated state has its own log",
  deadping:
    "a ping target's timeout is connectivity.timeout_ms (default 1000 ms), tried every interval_ms (2000)",
  stonith:
    "fencing is fencing.devices with fence-agents (docs/configuration.md#fencing); the stonith plugin's settings do not carry over",
  stonith_host:
    "fencing is fencing.devices with fence-agents (docs/configuration.md#fencing): one device per node, e.g. fence_ipmilan with its BMC's address",
  record_config_changes: "the replicated configuration keeps its history (`vigil config show`)",
  record_pengine_inputs: "`vigil explain` and `vigil simulate` show the placement's reasons",
  enable_config_writes: "the resource document changes only by `vigil config apply`",
  memreserve: "no memory reservation",
  generation_method: "each agent keeps its incarnation in state_dir",
  ucast_port: "per-node ports: nodes[].links.LINK.port",
};

interface Collected {
  nodes: string[];
  ucast: Map<string, { address: string; at: WordLine }[]>;
  links: LinkPlan[];
  /** bcast and mcast links, by interface, for the nodes' attachments. */
  port?: { value: number; at: WordLine };
  baud?: { value: number; at: WordLine };
  timing: TimingPlan;
  ping: string[];
}

export function translateHaCf(
  lines: readonly WordLine[],
  hints: ReadonlyMap<string, string>,
  report: ImportReport,
): HaCf {
  const collected: Collected = { nodes: [], ucast: new Map(), links: [], timing: {}, ping: [] };
  let autoFailback: boolean | undefined;
  let ipfail = false;
  let watchdogDevice: string | undefined;
  const timingSources: ClusterPlan["timingSources"] = {};
  const serialLinks: { link: LinkPlan; at: WordLine }[] = [];
  // Link lines may come before the node lines: every node attaches once all are known.
  const attachment = new Map<LinkPlan, NodeAttachment>();
  const portedLinks: LinkPlan[] = [];

  for (const line of lines) {
    const [directive, ...args] = line.words as [string, ...string[]];
    const need = (count: number, usage: string) => {
      if (args.length < count) throw new ImportError(line, `${directive}: expected ${usage}`);
    };
    switch (directive) {
      case "node":
        need(1, "one or more node names");
        for (const name of args) {
          if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name))
            throw new ImportError(line, `node: "${name}" is not a host name Vigil accepts`);
          if (collected.nodes.includes(name))
            throw new ImportError(line, `node ${name} is listed twice`);
          collected.nodes.push(name);
        }
        report.translate(line, `nodes: ${args.join(", ")}`);
        break;
      case "ucast": {
        need(2, "an interface and an address: ucast eth1 10.0.0.2");
        const [iface, address] = args as [string, string];
        if (!isIpv4(address))
          throw new ImportError(line, `ucast: "${address}" is not an IPv4 address`);
        const list = collected.ucast.get(iface) ?? [];
        list.push({ address, at: line });
        collected.ucast.set(iface, list);
        report.translate(line, `a ucast link for ${iface}: a node's address ${address}`);
        break;
      }
      case "mcast": {
        need(5, "interface, group, port, ttl and loop: mcast eth0 239.0.0.1 694 1 0");
        const [iface, group, port, ttl, loop] = args as [string, string, string, string, string];
        if (!isIpv4(group)) throw new ImportError(line, `mcast: "${group}" is not an IPv4 group`);
        const link = newLink(
          "mcast",
          {
            group,
            port: integer(line, port, 1, 65535, "port"),
            ttl: integer(line, ttl, 1, 255, "ttl"),
            ...(loop === "1" ? { loopback: true } : {}),
          },
          line,
        );
        attachment.set(link, { interface: iface });
        collected.links.push(link);
        report.translate(line, `an mcast link on ${iface}, group ${group}`);
        break;
      }
      case "bcast":
        need(1, "one or more interfaces: bcast eth0 eth1");
        for (const iface of args) {
          const link = newLink("bcast", {}, line);
          attachment.set(link, { interface: iface });
          collected.links.push(link);
          portedLinks.push(link);
        }
        report.translate(line, `a bcast link on ${args.join(", a bcast link on ")}`);
        break;
      case "serial":
        need(1, "one or more serial devices: serial /dev/ttyS0");
        for (const device of args) {
          if (!device.startsWith("/"))
            throw new ImportError(line, `serial: "${device}" is not a device path`);
          const link = newLink("serial", {}, line);
          attachment.set(link, { device });
          collected.links.push(link);
          serialLinks.push({ link, at: line });
        }
        report.translate(line, `a serial link on ${args.join(", ")}`);
        break;
      case "baud":
        need(1, "a baud rate");
        collected.baud = { value: integer(line, args[0]!, 1, 10_000_000, "baud rate"), at: line };
        report.translate(line, `the serial links' baud ${collected.baud.value}`);
        break;
      case "udpport":
        need(1, "a UDP port");
        collected.port = { value: integer(line, args[0]!, 1, 65535, "port"), at: line };
        report.translate(line, `port ${collected.port.value} on the ucast and bcast links`);
        break;
      case "keepalive":
      case "warntime":
      case "deadtime":
      case "initdead": {
        need(1, "a time: seconds, or with ms (500ms)");
        const ms = heartbeatMs(args[0]!);
        if (ms === undefined)
          throw new ImportError(line, `${directive}: "${args[0]}" is not a time (2, 1.5, 500ms)`);
        collected.timing[`${directive}_ms`] = ms;
        timingSources[`${directive}_ms`] = line;
        report.translate(line, `timing.${directive}_ms: ${ms}`);
        break;
      }
      case "auto_failback":
        need(1, "on, off or legacy");
        if (args[0] === "on" || args[0] === "legacy") autoFailback = true;
        else if (args[0] === "off") autoFailback = false;
        else
          throw new ImportError(
            line,
            `auto_failback: expected on, off or legacy, got "${args[0]}"`,
          );
        report.translate(
          line,
          `meta.auto_failback: ${autoFailback} on every group${args[0] === "legacy" ? " (legacy: as on; every node runs this version)" : ""}`,
        );
        break;
      case "nice_failback":
        need(1, "on or off");
        autoFailback = args[0] !== "on";
        report.translate(
          line,
          `meta.auto_failback: ${autoFailback} on every group (nice_failback ${args[0]})`,
        );
        break;
      case "ping":
        need(1, "one or more addresses");
        collected.ping.push(...args);
        report.translate(
          line,
          `connectivity.targets: ${args.map((a) => `{ icmp: ${a} }`).join(", ")}`,
        );
        break;
      case "ping_group":
        need(2, "a group name and addresses");
        collected.ping.push(...args.slice(1));
        report.translate(
          line,
          `connectivity.targets: ${args.slice(1).join(", ")} (each counts on its own: the attribute is the number that answer, where Heartbeat counted the group once)`,
        );
        break;
      case "respawn":
        need(2, "a user and a command");
        if (/(^|\/)ipfail$/.test(args[1]!)) {
          ipfail = true;
          report.translate(
            line,
            "ipfail: location rules that keep each group off nodes reaching fewer ping targets; a VIP also leaves a node cut from its heartbeat link by itself (docs/resources.md#vip)",
          );
        } else
          report.untranslated(
            line,
            `Vigil does not respawn programs: run ${args[1]} as a systemd service, or as a resource`,
          );
        break;
      case "watchdog":
        need(1, "a watchdog device");
        watchdogDevice = args[0];
        report.translate(line, `watchdog.device: ${args[0]} (fed by the node guard)`);
        break;
      case "crm":
      case "pacemaker":
        if (args[0] === "off" || args[0] === "no")
          report.translate(line, "haresources is the resource configuration (translated)");
        else
          report.untranslated(
            line,
            "with crm on, the resources are in Pacemaker's CIB, which this importer does not read: write them in the resource document (docs/resources.md); haresources is translated as it stands",
          );
        break;
      default: {
        const why = NOT_TRANSLATED[directive];
        if (why === undefined)
          throw new ImportError(line, `unknown ha.cf directive "${directive}"`);
        report.untranslated(line, why);
      }
    }
  }

  if (collected.nodes.length === 0)
    throw new ImportError(
      { file: lines[0]?.file ?? "ha.cf", line: lines.at(-1)?.line ?? 1 },
      "no node directive: the nodes of the cluster are unknown",
    );
  for (const [link, each] of attachment)
    for (const node of collected.nodes) link.attachments.set(node, { ...each });
  const ucastLinks = [...collected.ucast].map(([iface, entries]) =>
    ucastLink(iface, entries, collected.nodes, hints, report),
  );
  const links = [...ucastLinks, ...collected.links];
  if (links.length === 0)
    throw new ImportError(
      { file: lines[0]!.file, line: lines.at(-1)!.line },
      "no ucast, mcast, bcast or serial directive: no link between the nodes",
    );
  if (collected.port !== undefined)
    for (const link of [...ucastLinks, ...portedLinks]) {
      link.settings.port = collected.port.value;
      link.sources!.port = collected.port.at;
    }
  if (collected.baud !== undefined)
    for (const { link } of serialLinks) {
      link.settings.baud = collected.baud.value;
      link.sources!.baud = collected.baud.at;
    }
  for (const { at } of serialLinks)
    if (collected.nodes.length > 2)
      throw new ImportError(
        at,
        `a serial line joins two nodes, and this cluster has ${collected.nodes.length}`,
      );
  return {
    plan: {
      nodes: collected.nodes,
      links,
      timing: collected.timing,
      timingSources,
      connectivityTargets: collected.ping,
      ...(watchdogDevice !== undefined ? { watchdogDevice } : {}),
    },
    autoFailback,
    ipfail,
  };
}

function newLink(type: LinkPlan["type"], settings: LinkPlan["settings"], line: WordLine): LinkPlan {
  return {
    type,
    settings,
    attachments: new Map(),
    missingWhy: "",
    assumed: new Map(),
    sources: { "": line },
  };
}

/**
 * One ucast link per interface. Heartbeat ignores a ucast line with its own address, so a file
 * shared by every node lists every node's address, in no order the file states: an address goes
 * to the node --address names for it; when as many addresses remain as nodes, they go to the
 * nodes in the order of the node lines (and are marked to check); a node left without one gets a
 * placeholder.
 */
function ucastLink(
  iface: string,
  entries: readonly { address: string; at: WordLine }[],
  nodes: readonly string[],
  hints: ReadonlyMap<string, string>,
  report: ImportReport,
): LinkPlan {
  const link = newLink("ucast", {}, entries[0]!.at);
  const remaining = entries.filter(({ address }) => {
    const node = [...hints].find(([, hinted]) => hinted === address)?.[0];
    if (node === undefined) return true;
    link.attachments.set(node, { address });
    return false;
  });
  const free = nodes.filter((node) => !link.attachments.has(node));
  if (remaining.length === free.length) {
    remaining.forEach(({ address }, index) => {
      link.attachments.set(free[index]!, { address });
      link.assumed.set(
        free[index]!,
        `taken to be ${free[index]}'s address on ${iface}: the ucast lines are in the order of the node lines (else give --address NODE=${address})`,
      );
    });
  } else {
    for (const { address, at } of remaining)
      report.untranslated(
        at,
        `whose address ${address} is on ${iface} is not known: give --address NODE=${address} (its other nodes' addresses are placeholders)`,
      );
    link.missingWhy = `Heartbeat's file does not say which node has which address on ${iface}: give --address NODE=IP to the import, or edit`;
  }
  link.missingWhy ||= `no ucast line gives one on ${iface}`;
  return link;
}

function integer(line: WordLine, text: string, min: number, max: number, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    throw new ImportError(line, `expected a ${what} from ${min} to ${max}, got "${text}"`);
  return value;
}
