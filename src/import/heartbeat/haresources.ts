import { ImportError, type ImportReport } from "../report.js";
import { freshId, type ResourceDocumentDraft, takenInDocument } from "../resource-file.js";
import { isIpv4, type WordLine } from "../source-lines.js";

/** The score of a group's preferred node: enough to choose it, far from INFINITY. */
const PREFERRED_NODE_SCORE = 100;

export interface HaresourcesContext {
  nodes: readonly string[];
  autoFailback: boolean | undefined;
  /** ipfail ran: keep groups off nodes that reach fewer ping targets. */
  pingTargets: number | undefined;
}

/**
 * haresources: one group per line, `NODE RESOURCE...`, started left to right on the preferred
 * NODE. IPaddr/IPaddr2 become the built-in vip agent, Filesystem and MailTo their OCF agents,
 * a bare name the init script of that name (Heartbeat looked in resource.d, then init.d).
 */
export function translateHaresources(
  lines: readonly WordLine[],
  context: HaresourcesContext,
  document: ResourceDocumentDraft,
  report: ImportReport,
): void {
  const taken = takenInDocument(document);
  for (const line of lines) {
    const [node, ...specs] = line.words as [string, ...string[]];
    if (!context.nodes.includes(node))
      throw new ImportError(
        line,
        `${node} is not a node of ha.cf (nodes: ${context.nodes.join(", ")})`,
      );
    if (specs.length === 0) throw new ImportError(line, `a group for ${node} with no resources`);
    const members: string[] = [];
    for (const spec of specs) {
      const member = translateResource(spec, line, document, taken, report);
      if (member !== undefined) members.push(member);
    }
    if (members.length === 0) continue;
    const group = freshId(`group-${members.at(-1)}`, taken);
    document.groups[group] = {
      members,
      ...(context.autoFailback === undefined
        ? {}
        : { meta: { auto_failback: context.autoFailback } }),
    };
    document.constraints.push({
      location: { resource: group, node, score: PREFERRED_NODE_SCORE },
    });
    report.translate(
      line,
      `group ${group} [${members.join(", ")}], preferring ${node} (location score ${PREFERRED_NODE_SCORE})`,
    );
    if (context.pingTargets !== undefined)
      document.constraints.push({
        location: {
          resource: group,
          rules: [{ attribute: "connectivity", op: "lt", value: context.pingTargets }],
          score: -1000,
        },
      });
  }
}

function translateResource(
  spec: string,
  line: WordLine,
  document: ResourceDocumentDraft,
  taken: (id: string) => boolean,
  report: ImportReport,
): string | undefined {
  const [type, ...args] = spec.split("::") as [string, ...string[]];
  if (type === "") throw new ImportError(line, `"${spec}" has no resource type before ::`);
  const add = (wanted: string, resource: Record<string, unknown>, into: string) => {
    const id = freshId(wanted, taken);
    document.resources[id] = resource;
    report.translate(line, `${spec}: resource ${id} (${into})`);
    return id;
  };
  switch (type) {
    case "IPaddr":
    case "IPaddr2": {
      const [address, prefix, iface, broadcast] = (args[0] ?? "").split("/");
      if (address === undefined || !isIpv4(address))
        throw new ImportError(line, `${spec}: expected ${type}::ADDRESS[/PREFIX[/INTERFACE]]`);
      const bits = prefix === undefined || prefix === "" ? undefined : Number(prefix);
      if (bits !== undefined && !(Number.isInteger(bits) && bits >= 1 && bits <= 32))
        throw new ImportError(line, `${spec}: "${prefix}" is not a prefix length from 1 to 32`);
      const id = add(
        `ip-${address}`,
        {
          agent: "vip",
          params: { address: `${address}/${bits ?? 24}`, ...(iface ? { interface: iface } : {}) },
        },
        "vip",
      );
      if (bits === undefined)
        report.placeholder({
          document: "resources",
          path: ["resources", id, "params", "address"],
          message: `${type} found the prefix length from the interface's routes; Vigil needs it written: /24 is a guess`,
          at: line,
        });
      if (broadcast)
        report.untranslated(line, `${spec}: the broadcast address is the subnet's own in Vigil`);
      return id;
    }
    case "Filesystem": {
      const [device, directory, fstype, options] = args;
      if (!device || !directory)
        throw new ImportError(
          line,
          `${spec}: expected Filesystem::DEVICE::DIRECTORY[::FSTYPE[::OPTIONS]]`,
        );
      return add(
        `fs-${directory.split("/").filter(Boolean).at(-1) ?? "root"}`,
        {
          agent: "ocf:heartbeat:Filesystem",
          params: {
            device,
            directory,
            ...(fstype ? { fstype } : {}),
            ...(options ? { options } : {}),
          },
        },
        "ocf:heartbeat:Filesystem",
      );
    }
    case "MailTo": {
      const [email, subject] = args;
      if (!email) throw new ImportError(line, `${spec}: expected MailTo::ADDRESS[::SUBJECT]`);
      return add(
        "mailto",
        { agent: "ocf:heartbeat:MailTo", params: { email, ...(subject ? { subject } : {}) } },
        "ocf:heartbeat:MailTo",
      );
    }
    default:
      if (args.length > 0) {
        report.untranslated(
          line,
          `${spec}: ${type} with arguments is one of Heartbeat's resource.d scripts, which Vigil does not run; use its OCF agent (ocf:heartbeat:${type}, parameters by name) or an exec script (docs/resources.md#agents); left out of the group`,
        );
        return undefined;
      }
      if (!/^[A-Za-z0-9@._-]+$/.test(type))
        throw new ImportError(line, `"${type}" is not an init script name`);
      return add(type, { agent: `lsb:${type}` }, `lsb:${type}, /etc/init.d/${type} on every node`);
  }
}
