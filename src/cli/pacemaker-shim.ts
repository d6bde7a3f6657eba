/**
 * The process behind every command in shims/pacemaker/: `pacemaker-shim.js NAME ARGS...`. It runs once per
 * call an agent makes, so it loads only what it needs (no CLI framework, no schemas).
 */
import { appendFileSync } from "node:fs";
import { ControlClientError, controlGet, controlPost } from "../control/client.js";
import { cibOutput } from "../pacemaker/cib-output.js";
import type { PacemakerClusterReply } from "../pacemaker/cluster-view.js";
import { pacemakerdVersionText } from "../pacemaker/crm-feature-set.js";
import { crmMonOutput } from "../pacemaker/crm-mon-output.js";
import { UsageError } from "../pacemaker/getopt.js";
import { banWarning, locateOutput } from "../pacemaker/locate-output.js";
import { nodesOutput, type PacemakerNodesReply } from "../pacemaker/nodes-output.js";
import {
  type AttributeTarget,
  CRM_EX_OK,
  CRM_EX_UNAVAILABLE,
  CRM_EX_UNIMPLEMENT_FEATURE,
  CRM_EX_USAGE,
  planOf,
  propertyQueryOutput,
  queryOutput,
  type ShimPlan,
  shimEnvironmentOf,
} from "../pacemaker/plans.js";

interface Output {
  stdout: string;
  stderr: string;
  code: number;
}

async function main(argv: readonly string[]): Promise<Output> {
  const [command = "", ...args] = argv;
  let plan: ShimPlan;
  try {
    plan = planOf(command, args, shimEnvironmentOf(process.env));
  } catch (error) {
    if (error instanceof UsageError)
      return { stdout: "", stderr: `${error.message}\n`, code: CRM_EX_USAGE };
    throw error;
  }
  if (plan.kind === "refused") return refuse(plan.what);
  if (plan.kind === "node_name") return { stdout: `${plan.node}\n`, stderr: "", code: CRM_EX_OK };
  if (plan.kind === "version")
    return { stdout: pacemakerdVersionText(), stderr: "", code: CRM_EX_OK };
  const socket = process.env.VIGIL_CONTROL_SOCKET;
  if (socket === undefined || socket === "") {
    return {
      stdout: "",
      stderr: `${command}: no Vigil agent to ask (VIGIL_CONTROL_SOCKET)\n`,
      code: CRM_EX_UNAVAILABLE,
    };
  }
  try {
    return await carryOut(plan, socket);
  } catch (error) {
    if (!(error instanceof ControlClientError)) throw error;
    return { stdout: "", stderr: `${command}: ${error.message}\n`, code: CRM_EX_UNAVAILABLE };
  }
}

async function carryOut(
  plan: Exclude<ShimPlan, { kind: "refused" | "node_name" | "version" }>,
  socket: string,
): Promise<Output> {
  switch (plan.kind) {
    case "query": {
      const reply = await controlGet<{ value: string | null }>(
        socket,
        `/v1/attributes?${attributeQuery(plan.target)}`,
      );
      return queryOutput(plan, reply.value);
    }
    case "update":
    case "delete":
      await controlPost(socket, "/v1/attributes", {
        node: plan.target.node,
        key: plan.target.name,
        value: plan.kind === "update" ? plan.value : null,
        lifetime: plan.target.lifetime,
      });
      return { stdout: "", stderr: "", code: CRM_EX_OK };
    case "node_list":
    case "partition":
    case "quorum": {
      const reply = await controlGet<PacemakerNodesReply>(socket, "/v1/pacemaker/nodes");
      return { stdout: nodesOutput(plan.kind, reply), stderr: "", code: CRM_EX_OK };
    }
    case "property_query": {
      const query = new URLSearchParams({ name: plan.name }).toString();
      const reply = await controlGet<{ value: string | null }>(
        socket,
        `/v1/pacemaker/properties?${query}`,
      );
      return propertyQueryOutput(plan, reply.value);
    }
    case "property_update":
      await controlPost(socket, "/v1/pacemaker/properties", {
        name: plan.name,
        value: plan.value,
      });
      return { stdout: "", stderr: "", code: CRM_EX_OK };
    case "ban": {
      const reply = await controlPost<{ resource: string }>(socket, "/v1/pacemaker/ban", {
        resource: plan.resource,
        node: plan.node,
      });
      return {
        stdout: plan.quiet ? "" : banWarning(reply.resource, plan.node),
        stderr: "",
        code: CRM_EX_OK,
      };
    }
    case "crm_mon":
    case "locate":
    case "cib_query": {
      const reply = await controlGet<PacemakerClusterReply>(socket, "/v1/pacemaker/cluster");
      if (plan.kind === "locate") return locateOutput(reply, plan.resource, plan.quiet);
      const stdout =
        plan.kind === "crm_mon"
          ? crmMonOutput(reply, plan.format, plan.request)
          : cibOutput(reply, plan.scope);
      return { stdout, stderr: "", code: CRM_EX_OK };
    }
  }
}

function attributeQuery(target: AttributeTarget): string {
  return new URLSearchParams({
    node: target.node,
    key: target.name,
    lifetime: target.lifetime,
  }).toString();
}

/**
 * A command Vigil does not provide: the agent hears it failed, and the operation fails naming
 * it (the executor reads the refusals file after the operation), whatever the agent makes of it.
 */
function refuse(what: string): Output {
  const message = `vigil does not provide ${what}`;
  const file = process.env.VIGIL_PACEMAKER_REFUSALS;
  if (file !== undefined && file !== "") appendFileSync(file, `${message}\n`, { mode: 0o600 });
  return { stdout: "", stderr: `${message}\n`, code: CRM_EX_UNIMPLEMENT_FEATURE };
}

main(process.argv.slice(2)).then(
  (output) => {
    process.stdout.write(output.stdout);
    process.stderr.write(output.stderr);
    process.exitCode = output.code;
  },
  (error: unknown) => {
    process.stderr.write(
      `${process.argv[2] ?? "vigil-pacemaker-shim"}: ${(error as Error).message}\n`,
    );
    process.exitCode = 1;
  },
);
