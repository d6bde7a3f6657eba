import { type LinkPlan, writeClusterFile } from "../cluster-file.js";
import { ImportError, ImportReport } from "../report.js";
import { emptyDocument, writeResourceDocument } from "../resource-file.js";
import { type CommonImportOptions, header, type ImportResult, type InputFile } from "../result.js";
import { parseKeepalived, type Statement } from "./parse.js";
import { translateVirtualServer } from "./virtual-server.js";
import {
  type Instance,
  instanceOnNode,
  readVrrpScript,
  reportInstanceCopy,
  reportVrrpScript,
  translateInstance,
  type VrrpScript,
} from "./vrrp.js";
import { eachLine, skipBlock, skipListed } from "./walk.js";

export interface KeepalivedInput extends CommonImportOptions {
  /** One keepalived.conf per node; a node without a name takes its router_id. */
  files: { node?: string; input: InputFile }[];
}

const TOP_NOT_TRANSLATED: Record<string, string> = {
  static_ipaddress: "addresses every node always has belong in the system's network configuration",
  static_routes: "routes every node always has belong in the system's network configuration",
  static_rules: "rules every node always has belong in the system's network configuration",
  include:
    "included files are not read: import the files they name (their contents in the main file, or one --node per node)",
  virtual_server_group: "Vigil's virtual services are one address and port each",
  linkbeat_use_polling: "no polling setting: links are judged by their heartbeats",
  net_namespace: "the agent runs in the namespace it is started in",
};

const GLOBAL_NOT_TRANSLATED =
  "global_defs: not translated (notification e-mail, SMTP and script settings have no cluster-wide counterpart; hooks send notifications: docs/resources.md#hooks-notifications)";

/** A placeholder multicast group for VRRP's links: keepalived's 224.0.0.18 is VRRP's own. */
const MCAST_GROUP_BASE = "239.255.42";

/**
 * `vigil import keepalived`: each node's keepalived.conf (VRRP instances, their scripts, virtual
 * servers) to one cluster file and one resource document.
 */
export function importKeepalived(input: KeepalivedInput): ImportResult {
  const report = new ImportReport();
  if (input.files.length === 0) throw new ImportError(undefined, "no keepalived.conf to import");
  const parsed = input.files.map(({ node, input: file }) => {
    const statements = parseKeepalived(file.file, file.text);
    return {
      node: node ?? routerId(statements) ?? "node1",
      named: node !== undefined,
      file,
      statements,
    };
  });
  const nodes = parsed.map((entry) => entry.node);
  const duplicate = nodes.find((node, index) => nodes.indexOf(node) !== index);
  if (duplicate !== undefined)
    throw new ImportError(
      { file: parsed[nodes.lastIndexOf(duplicate)]!.file.file, line: 1 },
      `two files for node ${duplicate}: name each with --node NAME=FILE`,
    );
  const singleFile = parsed.length === 1;
  if (singleFile)
    report.note(
      `keepalived's files are per node: this one is ${nodes[0]}'s, so the cluster has one node. Import every node's file at once (--node db1=FILE1 --node db2=FILE2) for all of them, each with its priorities and addresses`,
    );

  const document = emptyDocument();
  const scripts = new Map<string, VrrpScript>();
  const instances = new Map<string, Instance>();
  const copies: { copy: ReturnType<typeof instanceOnNode>; instance: Instance }[] = [];
  const later: (() => void)[] = [];
  const syncGroups: Statement[] = [];
  const virtualServers = new Map<string, Statement>();

  for (const { node, named, statements } of parsed) {
    for (const statement of statements) {
      const [keyword, name] = statement.words as [string, string | undefined];
      switch (keyword) {
        case "global_defs":
          for (const line of statement.block ?? []) {
            if (line.words[0] === "router_id")
              if (named) report.untranslated(line, `the node is ${node}, as --node names it`);
              else report.translate(line, `the node's name, ${node}`);
            else skipBlock(line, GLOBAL_NOT_TRANSLATED, report);
          }
          report.translate(statement, "read for router_id (the rest is listed)");
          break;
        case "vrrp_script": {
          const [scriptName, script] = readVrrpScript(statement, report);
          const first = scripts.get(scriptName);
          if (first === undefined) scripts.set(scriptName, script);
          else later.push(() => reportCopy(statement, first.statement, report));
          break;
        }
        case "vrrp_instance": {
          if (name === undefined)
            throw new ImportError(statement, "vrrp_instance: expected a name");
          const copy = instanceOnNode(node, statement);
          const known = instances.get(name);
          if (known === undefined)
            instances.set(name, {
              name,
              first: statement,
              onNodes: [copy],
              vips: new Map(),
              unicast: false,
            });
          else {
            if (known.onNodes.some((other) => other.node === node))
              throw new ImportError(statement, `vrrp_instance ${name} twice for node ${node}`);
            known.onNodes.push(copy);
            copies.push({ copy, instance: known });
          }
          break;
        }
        case "vrrp_sync_group":
          syncGroups.push(statement);
          break;
        case "virtual_server": {
          const key = statement.words.join(" ");
          const first = virtualServers.get(key);
          if (first === undefined) {
            virtualServers.set(key, statement);
            later.push(() =>
              translateVirtualServer(statement, [...instances.values()], document, report),
            );
          } else later.push(() => reportCopy(statement, first, report));
          break;
        }
        default:
          skipListed(statement, TOP_NOT_TRANSLATED, "keepalived", report);
      }
    }
  }

  for (const instance of instances.values()) {
    instance.unicast = instance.onNodes.some((copy) => copy.unicastSource !== undefined);
    translateInstance(instance, { document, scripts, report, singleFile });
    for (const copy of instance.onNodes)
      if (copy.priority !== undefined && instance.group !== undefined)
        document.constraints.push({
          location: { resource: instance.group, node: copy.node, score: copy.priority },
        });
  }
  for (const { copy, instance } of copies) reportInstanceCopy(copy, instance, report);
  for (const run of later) run();
  for (const statement of syncGroups) syncGroup(statement, instances, document.constraints, report);
  for (const [name, script] of scripts) reportVrrpScript(name, script, report);

  const inputs = parsed.map((entry) => entry.file);
  const top = header("vigil import keepalived", inputs);
  const advert = [...instances.values()].map((i) => i.advertMs).filter((ms) => ms !== undefined);
  const keepalive = advert.length === 0 ? undefined : Math.min(...advert);
  const cluster = writeClusterFile(
    {
      name: input.clusterName,
      nodes,
      links: linksOf([...instances.values()], report.notes),
      // VRRP declares a master dead after three adverts and a skew of up to one.
      timing:
        keepalive === undefined ? {} : { keepalive_ms: keepalive, deadtime_ms: 4 * keepalive },
      connectivityTargets: [],
    },
    input.witness,
    report,
    top,
  );
  report.note(
    "keys: run `vigil keygen` on one node and copy /etc/vigil/authkeys (mode 0600) to every node",
  );
  const resources = writeResourceDocument(document, nodes, report, top);
  return { clusterText: cluster.text, resourcesText: resources.text, report };
}

/**
 * Another node's copy of a block (keepalived's files are per node): the same as the first one,
 * or listed as not used where it differs.
 */
function reportCopy(copy: Statement, first: Statement, report: ImportReport): void {
  const words = (statement: Statement) =>
    eachLine(statement)
      .map((line) => line.words.join(" "))
      .join("\n");
  const same = words(copy) === words(first);
  for (const line of eachLine(copy))
    if (same) report.translate(line, `the same as ${first.file}:${first.line} (translated there)`);
    else
      report.untranslated(
        line,
        `differs from ${first.file}:${first.line}, which is the one translated: make them the same, or edit the resource document`,
      );
}

function routerId(statements: readonly Statement[]): string | undefined {
  const global = statements.find((s) => s.words[0] === "global_defs");
  const id = global?.block?.find((s) => s.words[0] === "router_id")?.words[1];
  return id !== undefined && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(id) ? id : undefined;
}

/** One heartbeat link per interface the instances use (named by the first file's). */
function linksOf(instances: readonly Instance[], notes: string[]): LinkPlan[] {
  const links = new Map<string, LinkPlan>();
  for (const instance of instances) {
    const key = instance.onNodes[0]!.interface!;
    let link = links.get(key);
    if (link === undefined) {
      link = instance.unicast
        ? {
            type: "ucast",
            settings: {},
            attachments: new Map(),
            assumed: new Map(),
            missingWhy: "",
          }
        : {
            type: "mcast",
            settings: { group: `${MCAST_GROUP_BASE}.${links.size + 1}` },
            attachments: new Map(),
            assumed: new Map(),
            missingWhy: "",
          };
      if (link.type === "mcast")
        notes.push(
          `the instances on ${key} become the mcast link ${`ring${links.size}`} on group ${link.settings.group} (Vigil's heartbeats are UDP, not VRRP's 224.0.0.18): make sure the switch lets it through`,
        );
      link.missingWhy =
        link.type === "ucast"
          ? `no unicast_src_ip of this node on ${key}: import its keepalived.conf with --node, or edit`
          : `this node's interface for ${key}`;
      links.set(key, link);
    }
    for (const copy of instance.onNodes) {
      if (link.attachments.has(copy.node)) continue;
      if (link.type === "ucast") {
        if (copy.unicastSource !== undefined)
          link.attachments.set(copy.node, { address: copy.unicastSource });
      } else
        link.attachments.set(
          copy.node,
          copy.mcastSource !== undefined
            ? { address: copy.mcastSource }
            : { interface: copy.interface! },
        );
    }
  }
  if (links.size === 0) {
    // No VRRP instance: a virtual server on its own still needs the nodes to hear each other.
    links.set("", {
      type: "ucast",
      settings: {},
      attachments: new Map(),
      assumed: new Map(),
      missingWhy: "keepalived's file has no vrrp_instance saying which network the nodes share",
    });
  }
  return [...links.values()];
}

function syncGroup(
  statement: Statement,
  instances: ReadonlyMap<string, Instance>,
  constraints: Record<string, unknown>[],
  report: ImportReport,
): void {
  const members = statement.block?.find((line) => line.words[0] === "group");
  const groups: string[] = [];
  for (const line of members?.block ?? []) {
    const instance = instances.get(line.words[0]!);
    if (instance === undefined)
      throw new ImportError(line, `vrrp_sync_group: no vrrp_instance ${line.words[0]}`);
    if (instance.group !== undefined) groups.push(instance.group);
    report.translate(
      line,
      `${instance.group ?? "(no group)"} runs with the others of the sync group`,
    );
  }
  for (const line of statement.block ?? [])
    if (line !== members)
      skipBlock(line, "a sync group's scripts: give them to the instances' notify", report);
  if (members !== undefined) report.translate(members, "the sync group's members");
  for (const group of groups.slice(1))
    constraints.push({ colocation: { resource: group, with: groups[0] } });
  report.translate(
    statement,
    groups.length > 1
      ? `colocations of ${groups.slice(1).join(", ")} with ${groups[0]}`
      : "nothing (fewer than two groups)",
  );
}
