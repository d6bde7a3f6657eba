/**
 * `cibadmin -Q`'s answer, the part of Pacemaker's CIB that Vigil keeps: the cluster properties
 * (crm_config), the nodes with their attributes (-l forever), and each node's state with its
 * run's transient attributes (-l reboot). Resources and constraints are Vigil's own document
 * (`vigil config show`), not given here. ocf-shellfuncs' crm_mon_no_validation feeds this to
 * crm_mon as CIB_file; Vigil's crm_mon answers from the same state.
 */
import type { PacemakerClusterReply } from "./cluster-view.js";
import { CRM_FEATURE_SET } from "./crm-feature-set.js";
import { xmlLine } from "./xml.js";

/** The CIB sections `cibadmin -Q -o SCOPE` may name that Vigil gives. */
export const CIB_SCOPES = ["configuration", "crm_config", "nodes", "status"] as const;
export type CibScope = (typeof CIB_SCOPES)[number];

function nvpairs(prefix: string, values: Record<string, string>, depth: number): string[] {
  return Object.entries(values).flatMap(([name, value]) =>
    xmlLine(depth, "nvpair", [
      ["id", `${prefix}-${name}`],
      ["name", name],
      ["value", value],
    ]),
  );
}

/** An `<instance_attributes>` of these values; nothing when there are none. */
function instanceAttributes(id: string, values: Record<string, string>, depth: number): string[] {
  if (Object.keys(values).length === 0) return [];
  return xmlLine(depth, "instance_attributes", [["id", id]], nvpairs(id, values, depth + 1));
}

export function cibOutput(reply: PacemakerClusterReply, scope: CibScope | undefined): string {
  const attributesOf = (name: string) => reply.nodeAttributes[name] ?? { forever: {}, reboot: {} };
  const crmConfig = (depth: number) =>
    xmlLine(
      depth,
      "crm_config",
      [],
      xmlLine(
        depth + 1,
        "cluster_property_set",
        [["id", "cib-bootstrap-options"]],
        nvpairs("cib-bootstrap-options", reply.properties, depth + 2),
      ),
    );
  const nodes = (depth: number) =>
    xmlLine(
      depth,
      "nodes",
      [],
      reply.nodes.flatMap((node) => {
        const forever = attributesOf(node.name).forever;
        return xmlLine(
          depth + 1,
          "node",
          [
            ["id", String(node.id)],
            ["uname", node.name],
          ],
          instanceAttributes(`nodes-${node.id}`, forever, depth + 2),
        );
      }),
    );
  const status = (depth: number) =>
    xmlLine(
      depth,
      "status",
      [],
      reply.nodes.flatMap((node) => {
        const reboot = attributesOf(node.name).reboot;
        return xmlLine(
          depth + 1,
          "node_state",
          [
            ["id", String(node.id)],
            ["uname", node.name],
            ["in_ccm", String(node.online)],
            ["crmd", node.online ? "online" : "offline"],
            ["join", node.online ? "member" : "down"],
            ["expected", "member"],
          ],
          Object.keys(reboot).length === 0
            ? []
            : xmlLine(
                depth + 2,
                "transient_attributes",
                [["id", String(node.id)]],
                instanceAttributes(`status-${node.id}`, reboot, depth + 3),
              ),
        );
      }),
    );
  const configuration = (depth: number) =>
    xmlLine(depth, "configuration", [], [...crmConfig(depth + 1), ...nodes(depth + 1)]);
  const lines = (() => {
    switch (scope) {
      case "configuration":
        return configuration(0);
      case "crm_config":
        return crmConfig(0);
      case "nodes":
        return nodes(0);
      case "status":
        return status(0);
      case undefined:
        return xmlLine(
          0,
          "cib",
          [
            ["crm_feature_set", CRM_FEATURE_SET],
            ["validate-with", "pacemaker-3.9"],
            ["epoch", String(reply.stateVersion)],
            ["num_updates", "0"],
            ["admin_epoch", "0"],
            ["have-quorum", reply.quorate ? "1" : "0"],
          ],
          [...configuration(1), ...status(1)],
        );
    }
  })();
  return `${lines.join("\n")}\n`;
}
