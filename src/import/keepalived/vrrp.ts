import type { ImportReport } from "../report.js";
import { ImportError } from "../report.js";
import { freshId, type ResourceDocumentDraft, takenInDocument } from "../resource-file.js";
import type { Statement } from "./parse.js";
import {
  eachLine,
  executableOf,
  seconds,
  skipBlock,
  skipListed,
  wholeNumber,
  wrapperPlaceholder,
} from "./walk.js";

/** One node's view of a vrrp_instance: what differs per node in keepalived's per-node files. */
export interface InstanceOnNode {
  node: string;
  statement: Statement;
  interface?: string;
  unicastSource?: string;
  mcastSource?: string;
  priority?: number;
}

/** A vrrp_instance as the cluster runs it: one group of its VIPs, placed by priority. */
export interface Instance {
  name: string;
  /** Where it was first defined: its VIPs, scripts and notify come from there. */
  first: Statement;
  onNodes: InstanceOnNode[];
  group?: string;
  /** The vip resources, by address without prefix, for virtual servers to find. */
  vips: Map<string, string>;
  advertMs?: number;
  unicast: boolean;
}

const INSTANCE_NOT_TRANSLATED: Record<string, string> = {
  state:
    "Vigil starts resources where the location scores say: the MASTER's higher priority is its score",
  virtual_router_id: "no VRRP on the wire: Vigil's own heartbeats and elections decide",
  preempt_delay:
    "no delay before taking a group back: auto_failback moves it as soon as the preferred node may run it",
  garp_master_delay:
    "a vip sends its gratuitous ARPs at start (params arp_count, arp_interval_ms) and again on monitors (arp_refresh_ms)",
  garp_master_repeat: "a vip's params arp_count and arp_interval_ms",
  garp_master_refresh: "a vip's param arp_refresh_ms",
  garp_master_refresh_repeat: "a vip's param arp_refresh_ms",
  garp_lower_prio_delay: "a vip's params arp_count and arp_interval_ms",
  garp_lower_prio_repeat: "a vip's params arp_count and arp_interval_ms",
  smtp_alert: "hooks send notifications (docs/resources.md#hooks-notifications)",
  dont_track_primary:
    "Vigil watches every heartbeat link; the VIP's own link decides where it may stay",
  debug: "`log.level: debug` in the cluster file",
  use_vmac: "no virtual MAC: the vip agent announces the address with gratuitous ARP",
  vmac_xmit_base: "no virtual MAC",
  native_ipv6: "no VRRP on the wire",
  lvs_sync_daemon_interface: "connection state is not shared between directors",
  version: "no VRRP on the wire",
  accept: "the vip is a local address of the node that holds it: it accepts its traffic",
  no_accept: "the vip is a local address of the node that holds it: it accepts its traffic",
  strict_mode: "no VRRP on the wire",
  virtual_routes:
    "no routes with the VIP: add a resource (an exec script) after the vip in its group",
  virtual_rules:
    "no policy rules with the VIP: add a resource (an exec script) after the vip in its group",
  track_file: "a check of kind exec can read the file (docs/resources.md#checks-health-checks)",
  track_process: "a check of kind exec, or the service as a resource with its monitor",
  track_bfd: "no BFD: Vigil's heartbeats on every link are its failure detector",
  notify_fault:
    "no fault state: a failing group is a resource_failed event, which hooks receive (docs/resources.md#hooks-notifications)",
  authentication:
    "Vigil authenticates every frame with its own key: run `vigil keygen` and copy /etc/vigil/authkeys to every node",
  auth_type: "Vigil authenticates every frame with its own key",
  auth_pass: "Vigil authenticates every frame with its own key (the password is not carried over)",
};

export interface VrrpScript {
  statement: Statement;
  command: string;
  intervalMs: number;
  timeoutMs?: number;
  weight: number;
  rise: number;
  fall: number;
  used: boolean;
}

/** vrrp_script NAME { script ...; interval; timeout; weight; rise; fall }. */
export function readVrrpScript(statement: Statement, report: ImportReport): [string, VrrpScript] {
  const name = statement.words[1];
  if (name === undefined) throw new ImportError(statement, "vrrp_script: expected a name");
  const script: VrrpScript = {
    statement,
    command: "",
    intervalMs: 1000,
    weight: 0,
    rise: 1,
    fall: 1,
    used: false,
  };
  for (const line of statement.block ?? []) {
    const [key, value] = line.words;
    switch (key) {
      case "script":
        script.command = line.words.slice(1).join(" ");
        break;
      case "interval":
        script.intervalMs = seconds(line, value);
        break;
      case "timeout":
        script.timeoutMs = seconds(line, value);
        break;
      case "weight":
        script.weight = wholeNumber(line, value, -253, 253);
        if (line.words[2] === "reverse")
          report.untranslated(line, "weight ... reverse: the weight applies as written");
        break;
      case "rise":
        script.rise = wholeNumber(line, value, 1, 100);
        break;
      case "fall":
        script.fall = wholeNumber(line, value, 1, 100);
        break;
      case "user":
        report.untranslated(line, "checks run as the agent's user (root)");
        continue;
      case "init_fail":
        report.untranslated(
          line,
          "a check has no verdict until its first tries; it neither passes nor fails before",
        );
        continue;
      default:
        throw new ImportError(line, `unknown vrrp_script directive "${key}"`);
    }
  }
  if (script.command === "") throw new ImportError(statement, `vrrp_script ${name}: no script`);
  return [name, script];
}

/** The per-node parts of a vrrp_instance; the rest is read once, by translateInstance. */
export function instanceOnNode(node: string, statement: Statement): InstanceOnNode {
  const found: InstanceOnNode = { node, statement };
  for (const line of statement.block ?? []) {
    const [key, value] = line.words;
    if (key === "interface") found.interface = value;
    else if (key === "unicast_src_ip") found.unicastSource = value;
    else if (key === "mcast_src_ip") found.mcastSource = value;
    else if (key === "priority") found.priority = wholeNumber(line, value, 1, 255);
  }
  if (found.interface === undefined)
    throw new ImportError(statement, `vrrp_instance ${statement.words[1]}: no interface`);
  return found;
}

/** Reports a later node's copy of an instance: its own lines are its priority and addresses. */
export function reportInstanceCopy(
  copy: InstanceOnNode,
  instance: Instance,
  report: ImportReport,
): void {
  const first = `${instance.first.file}:${instance.first.line}`;
  for (const line of eachLine(copy.statement)) {
    const key = line.words[0];
    if (key === "priority")
      report.translate(
        line,
        `location ${instance.group ?? "(no group)"} on ${copy.node}: score ${copy.priority}`,
      );
    else if (key === "interface" || key === "unicast_src_ip" || key === "mcast_src_ip")
      report.translate(line, `${copy.node}'s attachment to the instance's link`);
    else if (key !== undefined && key in INSTANCE_NOT_TRANSLATED && key !== "notify_fault")
      report.untranslated(line, INSTANCE_NOT_TRANSLATED[key]!);
    else report.translate(line, `the same instance as ${first} (translated there)`);
  }
}

interface InstanceContext {
  document: ResourceDocumentDraft;
  scripts: Map<string, VrrpScript>;
  report: ImportReport;
  /** Files are per node: unicast_peer addresses come from the other files. */
  singleFile: boolean;
}

/** The first definition of a vrrp_instance: its VIPs, tracking and scripts, as a group. */
export function translateInstance(instance: Instance, context: InstanceContext): void {
  const { document, report } = context;
  const taken = takenInDocument(document);
  const statement = instance.first;
  const own = instance.onNodes[0]!;
  const members: string[] = [];
  let autoFailback = true;
  const notify: Record<string, string> = {};
  const deferred: (() => void)[] = [];

  for (const line of statement.block ?? []) {
    const [key, value] = line.words as [string, string | undefined];
    switch (key) {
      case "interface":
        report.translate(line, `a heartbeat link on ${value}, which the VIPs' link rule watches`);
        break;
      case "unicast_src_ip":
      case "mcast_src_ip":
        report.translate(line, `${own.node}'s address on the instance's link`);
        break;
      case "unicast_peer":
        if (context.singleFile)
          skipBlock(
            line,
            "the peers are nodes of their own: import every node's keepalived.conf together (--node NAME=FILE)",
            report,
          );
        else {
          report.translate(
            line,
            "the other nodes' addresses come from their own files' unicast_src_ip",
          );
          for (const peer of line.block ?? [])
            report.translate(peer, "a peer's address (from its own file)");
        }
        break;
      case "priority":
        report.translate(line, `location on ${own.node}: score ${own.priority}`);
        break;
      case "advert_int":
        instance.advertMs = seconds(line, value);
        report.translate(
          line,
          `heartbeat timing: keepalive ${instance.advertMs} ms (the smallest advert_int of all instances)`,
        );
        break;
      case "nopreempt":
        autoFailback = false;
        report.translate(line, "meta.auto_failback: false on the group");
        break;
      case "preempt":
        report.translate(line, "meta.auto_failback: true on the group");
        break;
      case "virtual_ipaddress":
      case "virtual_ipaddress_excluded":
        report.translate(
          line,
          `the instance's VIPs, members of its group${key === "virtual_ipaddress_excluded" ? " (excluded from VRRP packets in keepalived; a VIP like the others here)" : ""}`,
        );
        for (const address of line.block ?? [])
          members.push(vipResource(address, own.interface!, instance, document, taken, report));
        break;
      case "track_script":
        report.translate(line, "checks of the group (below)");
        for (const entry of line.block ?? [])
          deferred.push(() => trackScript(entry, instance, context));
        break;
      case "track_interface":
        report.translate(line, "tracked interfaces (below)");
        for (const entry of line.block ?? []) {
          const iface = entry.words[0];
          if (iface === own.interface)
            report.translate(
              entry,
              `the VIPs leave a node cut from their link on ${iface} (docs/resources.md#vip)`,
            );
          else
            report.untranslated(
              entry,
              `${iface} is not the instance's interface: watch it with a check of kind exec (e.g. a script testing /sys/class/net/${iface}/operstate) bound to the group`,
            );
        }
        break;
      case "notify_master":
      case "notify_backup":
      case "notify_stop":
      case "notify": {
        const command = line.words.slice(1).join(" ");
        const kinds =
          key === "notify_master"
            ? ["started"]
            : key === "notify"
              ? ["started", "stopped"]
              : ["stopped"];
        for (const kind of kinds) {
          if (notify[kind] !== undefined) {
            report.untranslated(line, `the group's ${kind} script is already ${notify[kind]}`);
            continue;
          }
          notify[kind] = executableOf(command) ?? `/etc/vigil/notify/${instance.name}-${kind}`;
          if (executableOf(command) === undefined)
            deferred.push(() => {
              const first = members[0];
              if (first !== undefined)
                wrapperPlaceholder(report, ["resources", first, "notify", kind], command, line);
            });
        }
        report.translate(
          line,
          `notify.${kinds.join(" and notify.")} of the group's first VIP, run as SCRIPT RESOURCE ${kinds.join("|")} (keepalived ${key === "notify" ? 'passed "INSTANCE NAME STATE PRIORITY"' : "passed no arguments"})`,
        );
        break;
      }
      default:
        skipListed(line, INSTANCE_NOT_TRANSLATED, "vrrp_instance", report);
    }
  }
  if (members.length === 0) {
    report.note(
      `vrrp_instance ${instance.name} (${statement.file}:${statement.line}) has no virtual_ipaddress: no group for it, its priorities place nothing`,
    );
  } else {
    if (Object.keys(notify).length > 0) document.resources[members[0]!]!.notify = notify;
    instance.group = freshId(`vrrp-${instance.name}`, taken);
    document.groups[instance.group] = { members, meta: { auto_failback: autoFailback } };
  }
  report.translate(
    statement,
    instance.group === undefined
      ? "nothing to place (no VIPs)"
      : `group ${instance.group} [${members.join(", ")}]`,
  );
  for (const run of deferred) run();
}

function vipResource(
  line: Statement,
  defaultInterface: string,
  instance: Instance,
  document: ResourceDocumentDraft,
  taken: (id: string) => boolean,
  report: ImportReport,
): string {
  const [spec, ...options] = line.words as [string, ...string[]];
  const [address, prefix] = spec.split("/");
  const family6 = address!.includes(":");
  if (!/^[0-9a-fA-F:.]+$/.test(address!))
    throw new ImportError(line, `"${spec}" is not an IP address`);
  let iface = defaultInterface;
  const rest: string[] = [];
  for (let i = 0; i < options.length; i++) {
    if (options[i] === "dev" && options[i + 1] !== undefined) iface = options[++i]!;
    else rest.push(options[i]!);
  }
  const id = freshId(`ip-${address}`, taken);
  // keepalived adds an address written without a prefix as a host address.
  const full = `${address}/${prefix ?? (family6 ? "128" : "32")}`;
  document.resources[id] = { agent: "vip", params: { address: full, interface: iface } };
  instance.vips.set(address!, id);
  report.translate(line, `resource ${id}: vip ${full} on ${iface}`);
  if (rest.length > 0)
    report.untranslated(
      line,
      `${rest.join(" ")}: the vip agent takes the address and interface only`,
    );
  return id;
}

function trackScript(entry: Statement, instance: Instance, context: InstanceContext): void {
  const { document, report, scripts } = context;
  const [name, weightWord, weightValue] = entry.words as [
    string,
    string | undefined,
    string | undefined,
  ];
  const script = scripts.get(name);
  if (script === undefined) throw new ImportError(entry, `track_script: no vrrp_script ${name}`);
  script.used = true;
  const weight =
    weightWord === "weight" ? wholeNumber(entry, weightValue, -253, 253) : script.weight;
  if (instance.group === undefined) {
    report.untranslated(entry, "the instance has no VIPs, so nothing to check for");
    return;
  }
  const checkId = freshId(name, (id) => id in document.checks);
  const executable = executableOf(script.command);
  const intervalMs = Math.max(100, script.intervalMs);
  // keepalived lets a script run for its whole interval; a check's try must end before the next.
  const timeoutMs = Math.min(script.timeoutMs ?? Math.floor(intervalMs / 2), intervalMs - 1);
  const check: Record<string, unknown> = {
    exec: executable ?? `/etc/vigil/checks/${name}`,
    interval_ms: intervalMs,
    timeout_ms: timeoutMs,
    rise: script.rise,
    fall: script.fall,
  };
  if (weight === 0) {
    check.resource = instance.group;
    report.translate(
      entry,
      `check ${checkId} (exec) fails group ${instance.group} where it runs, as keepalived's FAULT state did`,
    );
  } else {
    check.attribute = checkId;
    document.constraints.push({
      location: {
        resource: instance.group,
        rules: [{ attribute: checkId, op: "eq", value: weight < 0 ? "0" : "1" }],
        score: weight,
      },
    });
    report.translate(
      entry,
      `check ${checkId} (exec) sets attribute ${checkId}; a location rule adds ${weight} to group ${instance.group}'s score where it ${weight < 0 ? "fails" : "passes"}, as the weight changed the priority`,
    );
  }
  document.checks[checkId] = check;
  if (executable === undefined)
    wrapperPlaceholder(report, ["checks", checkId, "exec"], script.command, script.statement);
}

/** Lines of a vrrp_script block, once it is known whether any instance tracks it. */
export function reportVrrpScript(name: string, script: VrrpScript, report: ImportReport): void {
  if (!script.used) {
    for (const line of eachLine(script.statement))
      if (!report.notTranslated.some((entry) => entry.at === line))
        report.untranslated(line, `vrrp_script ${name} is tracked by no instance`);
    return;
  }
  for (const line of eachLine(script.statement)) {
    if (report.notTranslated.some((entry) => entry.at === line)) continue;
    const key = line === script.statement ? "vrrp_script" : line.words[0];
    report.translate(
      line,
      key === "vrrp_script"
        ? `check ${name}`
        : `the check's ${key === "interval" ? "interval_ms" : key === "timeout" ? "timeout_ms" : key === "script" ? "exec" : key === "weight" ? "location score" : key}`,
    );
  }
}
