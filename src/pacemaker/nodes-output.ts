/** `GET /v1/pacemaker/nodes`: crm_node's answers. */
export interface PacemakerNodesReply {
  nodes: Array<{ id: number; name: string; member: boolean }>;
  quorate: boolean;
}

/** crm_node's answers, as Pacemaker prints them. */
export function nodesOutput(
  kind: "node_list" | "partition" | "quorum",
  reply: PacemakerNodesReply,
): string {
  switch (kind) {
    case "node_list":
      return reply.nodes.map((n) => `${n.id} ${n.name} ${n.member ? "member" : "lost"}\n`).join("");
    case "partition":
      return `${reply.nodes
        .filter((n) => n.member)
        .map((n) => n.name)
        .join(" ")}\n`;
    case "quorum":
      return reply.quorate ? "1\n" : "0\n";
  }
}
