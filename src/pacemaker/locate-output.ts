/**
 * `crm_resource --locate -r NAME` (-W): where a resource runs, as Pacemaker 2.1 prints it. The
 * name may be a primitive, a group, a clone, or one copy's key ("db-ha:0", what Vigil passes a
 * copy as OCF_RESOURCE_INSTANCE); a clone's (or what it wraps) stands for all its copies.
 */
import { copiesOf, type PacemakerClusterReply } from "./cluster-view.js";
import { CRM_EX_NOSUCH, CRM_EX_OK } from "./plans.js";

export function locateOutput(
  reply: PacemakerClusterReply,
  name: string,
  quiet: boolean,
): { stdout: string; stderr: string; code: number } {
  const named = copiesOf(reply).filter(
    ({ copy, clone, group }) =>
      copy.id === name || copy.primitive === name || clone === name || group === name,
  );
  if (named.length === 0) {
    return {
      stdout: "",
      stderr: `crm_resource: Resource '${name}' not found\n`,
      code: CRM_EX_NOSUCH,
    };
  }
  const lines = named.flatMap(({ copy }) =>
    copy.running.map(({ node, role }) =>
      quiet
        ? node
        : `resource ${name} is running on: ${node}${role === "promoted" ? " Promoted" : ""}`,
    ),
  );
  if (lines.length === 0) {
    return { stdout: "", stderr: `resource ${name} is NOT running\n`, code: CRM_EX_OK };
  }
  return { stdout: `${lines.join("\n")}\n`, stderr: "", code: CRM_EX_OK };
}

/**
 * What `crm_resource --ban` prints without `-Q` (Pacemaker 2.1's words); Vigil's ban is the
 * operator's (`vigil resource ban`), which `vigil resource clear` removes.
 */
export function banWarning(resource: string, node: string): string {
  return [
    `WARNING: Creating rsc_location constraint 'cli-ban-${resource}-on-${node}' with a score of -INFINITY for resource ${resource} on ${node}.`,
    `\tThis will prevent ${resource} from running on ${node} until the constraint is removed using the clear option or by editing the CIB with an appropriate tool`,
    `\tThis will be the case even if ${node} is the last node in the cluster`,
    "",
  ].join("\n");
}
