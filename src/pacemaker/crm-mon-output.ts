/**
 * `crm_mon -1`'s output, the subset agents read: the nodes (online, standby, unclean) and every
 * resource with its role, whether it is active or failed, and the nodes it runs on. The XML
 * keeps Pacemaker's element and attribute order, because agents grep its lines (redis:
 * `resource.*id="X".* role="(Promoted|Master)".* active="true".* orphaned="false".*
 * failed="false"`) as well as parse it (galera and rabbitmq with xmllint).
 *
 * A clone's copies are listed under the id of the primitive they are copies of, as Pacemaker
 * lists an anonymous clone's: that is also what an OCF agent's copy gets as
 * OCF_RESOURCE_INSTANCE, so redis's "is my resource promoted somewhere" grep works.
 */
import type { RunRole } from "../policy/types.js";
import {
  copiesOf,
  type PacemakerClusterReply,
  type PacemakerCopy,
  type PacemakerGroup,
  type PacemakerResource,
} from "./cluster-view.js";
import { CRM_FEATURE_SET, PACEMAKER_VERSION } from "./crm-feature-set.js";
import { xmlLine } from "./xml.js";

/** xml: `--output-as=xml` (`<pacemaker-result>`); legacy_xml: `--as-xml`/`-X` (`<crm_mon>`). */
export type CrmMonFormat = "text" | "xml" | "legacy_xml";

/** The version Pacemaker's XML output names (its API version), for tools that check it. */
const API_VERSION = "2.25";

const ROLE: Record<RunRole, string> = {
  started: "Started",
  promoted: "Promoted",
  unpromoted: "Unpromoted",
};

const RANK: Record<RunRole, number> = { unpromoted: 0, started: 1, promoted: 2 };

/** The role Pacemaker shows for a copy: the furthest one it runs in, else Stopped. */
function roleOf(copy: PacemakerCopy): string {
  const best = copy.running.reduce<RunRole | undefined>(
    (role, r) => (role === undefined || RANK[r.role] > RANK[role] ? r.role : role),
    undefined,
  );
  return best === undefined ? "Stopped" : ROLE[best];
}

export function crmMonOutput(
  reply: PacemakerClusterReply,
  format: CrmMonFormat,
  request: string,
): string {
  return format === "text" ? crmMonText(reply) : crmMonXml(reply, format, request);
}

function crmMonXml(
  reply: PacemakerClusterReply,
  format: "xml" | "legacy_xml",
  request: string,
): string {
  const ids = new Map(reply.nodes.map((node) => [node.name, String(node.id)]));
  const running = (name: string) =>
    copiesOf(reply).filter(({ copy }) => copy.running.some((r) => r.node === name)).length;
  const copyLines = (copy: PacemakerCopy, depth: number) =>
    xmlLine(
      depth,
      "resource",
      [
        ["id", copy.primitive],
        ["resource_agent", copy.agent],
        ["role", roleOf(copy)],
        ["active", String(copy.running.length > 0)],
        ["orphaned", "false"],
        ["blocked", String(copy.failed)],
        ["managed", "true"],
        ["failed", String(copy.failed)],
        ["failure_ignored", "false"],
        ["nodes_running_on", String(copy.running.length)],
      ],
      copy.running.flatMap(({ node }) =>
        xmlLine(depth + 1, "node", [
          ["name", node],
          ["id", ids.get(node) ?? node],
          ["cached", "true"],
        ]),
      ),
    );
  const groupLines = (group: PacemakerGroup, depth: number) =>
    xmlLine(
      depth,
      "group",
      [
        ["id", group.id],
        ["number_resources", String(group.members.length)],
        ["managed", "true"],
        ["disabled", "false"],
      ],
      group.members.flatMap((member) => copyLines(member, depth + 1)),
    );
  const resourceLines = (resource: PacemakerResource): string[] => {
    switch (resource.kind) {
      case "primitive":
        return copyLines(resource.copy, 2);
      case "group":
        return groupLines(resource.group, 2);
      case "clone":
        return xmlLine(
          2,
          "clone",
          [
            ["id", resource.id],
            ["multi_state", String(resource.promotable)],
            ["unique", "false"],
            ["managed", "true"],
            ["disabled", "false"],
            ["failed", String(resource.copies.some(failedCopy))],
            ["failure_ignored", "false"],
          ],
          resource.copies.flatMap((copy) =>
            "members" in copy ? groupLines(copy, 3) : copyLines(copy, 3),
          ),
        );
    }
  };
  const body = [
    ...xmlLine(
      1,
      "summary",
      [],
      [
        ...xmlLine(2, "stack", [["type", "vigil"]]),
        ...xmlLine(2, "current_dc", [
          ["present", "false"],
          ["with_quorum", String(reply.quorate)],
        ]),
        ...xmlLine(2, "nodes_configured", [["number", String(reply.nodes.length)]]),
        ...xmlLine(2, "resources_configured", [
          ["number", String(copiesOf(reply).length)],
          ["disabled", "0"],
          ["blocked", "0"],
        ]),
      ],
    ),
    ...xmlLine(
      1,
      "nodes",
      [],
      reply.nodes.flatMap((node) =>
        xmlLine(2, "node", [
          ["name", node.name],
          ["id", String(node.id)],
          ["online", String(node.online)],
          ["standby", String(node.standby)],
          ["standby_onfail", "false"],
          ["maintenance", "false"],
          ["pending", "false"],
          ["unclean", String(node.unclean)],
          ["shutdown", "false"],
          ["expected_up", "true"],
          ["resources_running", String(running(node.name))],
          ["type", "member"],
        ]),
      ),
    ),
    ...xmlLine(1, "resources", [], reply.resources.flatMap(resourceLines)),
  ];
  const lines =
    format === "legacy_xml"
      ? xmlLine(0, "crm_mon", [["version", PACEMAKER_VERSION]], body)
      : xmlLine(
          0,
          "pacemaker-result",
          [
            ["api-version", API_VERSION],
            ["request", request],
          ],
          [
            ...body,
            ...xmlLine(1, "status", [
              ["code", "0"],
              ["message", "OK"],
            ]),
          ],
        );
  return `<?xml version="1.0"?>\n${lines.join("\n")}\n`;
}

function failedCopy(copy: PacemakerCopy | PacemakerGroup): boolean {
  return "members" in copy ? copy.members.some((member) => member.failed) : copy.failed;
}

/** Pacemaker 2.1's text layout, minimal: the summary, the node list, every resource. */
function crmMonText(reply: PacemakerClusterReply): string {
  const names = (filter: (n: PacemakerClusterReply["nodes"][number]) => boolean) =>
    reply.nodes.filter(filter).map((node) => node.name);
  const online = names((n) => n.online && !n.standby);
  const standby = names((n) => n.online && n.standby);
  const offline = names((n) => !n.online);
  const copyLine = (copy: PacemakerCopy, indent: string) => {
    const where = copy.running.map((r) => r.node).join(" ");
    const state = `${roleOf(copy)}${where === "" ? "" : ` ${where}`}${copy.failed ? " (FAILED)" : ""}`;
    return `${indent}* ${copy.primitive}\t(${copy.agent}):\t ${state}`;
  };
  const groupLines = (group: PacemakerGroup, indent: string) => [
    `${indent}* Resource Group: ${group.id}:`,
    ...group.members.map((member) => copyLine(member, `${indent}  `)),
  ];
  const textLinesOf = (resource: PacemakerResource): string[] => {
    switch (resource.kind) {
      case "primitive":
        return [copyLine(resource.copy, "  ")];
      case "group":
        return groupLines(resource.group, "  ");
      case "clone":
        return [
          `  * Clone Set: ${resource.id}${resource.promotable ? " (promotable)" : ""}:`,
          ...resource.copies.flatMap((copy) =>
            "members" in copy ? groupLines(copy, "    ") : [copyLine(copy, "    ")],
          ),
        ];
    }
  };
  const resourceLines = reply.resources.flatMap(textLinesOf);
  return [
    "Cluster Summary:",
    "  * Stack: vigil",
    `  * Asked: ${reply.localNode} (version ${CRM_FEATURE_SET}) - partition ${reply.quorate ? "with" : "WITHOUT"} quorum`,
    `  * ${reply.nodes.length} nodes configured`,
    `  * ${copiesOf(reply).length} resource instances configured`,
    "",
    "Node List:",
    ...standby.map((name) => `  * Node ${name}: standby`),
    ...(online.length === 0 ? [] : [`  * Online: [ ${online.join(" ")} ]`]),
    ...(offline.length === 0 ? [] : [`  * OFFLINE: [ ${offline.join(" ")} ]`]),
    "",
    "Full List of Resources:",
    ...(resourceLines.length === 0 ? ["  * No resources"] : resourceLines),
    "",
  ].join("\n");
}
