import type { z } from "zod";
import type { ConfigPath, ConfigProblem } from "../config/errors.js";
import { closestMatch } from "../config/suggest.js";
import { nestsTooDeep, YAML_MAX_DEPTH } from "../config/yaml-limits.js";
import { computePlacement, findOrderCycles, NO_PROMOTION_SCORE } from "../policy/index.js";
import {
  DOCUMENT_SECTIONS,
  type ResourceDocument,
  resourceDocumentSchema,
} from "../resource-model/model-schema.js";
import { parseResourceModel } from "../resource-model/parse-model.js";
import { replicationOffsetAttribute } from "../resource-model/replication-offset.js";
import type { ResourceModel } from "../resource-model/types.js";

export interface DocumentCheckOptions {
  /**
   * "apply" (the default): a document about to be applied, held to every rule. "use": a
   * committed one, of which this node runs what it can (usableResourceModel): only what using
   * each resource needs is checked. What judges the document as a whole (unknown sections,
   * whether each resource could run anywhere) is for the one who applies it, and a document
   * committed under older rules must go on running.
   */
  purpose?: "apply" | "use";
  /**
   * Whether the cluster configuration enables fencing, when known (the agent knows; `vigil
   * config apply` leaves it to the agent): without it `on_fail: fence` is refused when applying.
   */
  fencing?: boolean;
}

/**
 * Checks the resource sections of a cluster configuration document: shape first, then every
 * reference, order cycles and, when applying, that it has no unknown section and that each
 * resource could run anywhere. Used by `vigil config apply` before sending (to point at lines of
 * the file), by the agent before proposing (API clients do not go through the CLI), and on
 * commit (usableResourceModel).
 */
export function checkResourceDocument(
  document: unknown,
  nodeNames: readonly string[],
  options: DocumentCheckOptions = {},
): { model: ResourceModel | null; problems: ConfigProblem[] } {
  // The agent takes documents as JSON from any client: bounded here, before anything walks them.
  if (nestsTooDeep(document))
    return {
      model: null,
      problems: [{ path: [], message: `nests deeper than ${YAML_MAX_DEPTH} levels` }],
    };
  const applying = options.purpose !== "use";
  const sectionProblems = applying ? unknownSections(document) : [];
  const parsed = resourceDocumentSchema.safeParse(document);
  if (!parsed.success) {
    return {
      model: null,
      problems: [...sectionProblems, ...parsed.error.issues.flatMap(problemsOfIssue)],
    };
  }
  const { model, problems } = parseResourceModel(parsed.data, nodeNames);
  problems.push(...checkReferences(parsed.data.checks, model, nodeNames));
  // A committed document's checks are not read here for use (usableResourceModel copies only
  // the resource sections): a real server whose check is gone is taken as healthy.
  if (applying) problems.push(...checkUses(parsed.data));
  if (applying && options.fencing === false) problems.push(...fenceWithoutFencing(parsed.data));
  if (problems.length > 0 || sectionProblems.length > 0)
    return { model: null, problems: [...sectionProblems, ...problems] };
  const cycleProblems = checkOrderCycles(model);
  if (cycleProblems.length > 0) return { model: null, problems: cycleProblems };
  if (!applying) return { model, problems: [] };
  const placementProblems = checkPlaceable(model, nodeNames);
  return { model: placementProblems.length === 0 ? model : null, problems: placementProblems };
}

/** A health check watches a resource of the document, on nodes of the cluster. */
function checkReferences(
  checks: ResourceDocument["checks"],
  model: ResourceModel,
  nodeNames: readonly string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const resources = [
    ...Object.keys(model.primitives),
    ...Object.keys(model.groups),
    ...Object.keys(model.clones),
  ];
  for (const [name, check] of Object.entries(checks)) {
    if (check.resource !== undefined && !resources.includes(check.resource))
      problems.push({
        path: ["checks", name, "resource"],
        message: `no resource ${check.resource} in this document (resources: ${resources.sort().join(", ") || "none"})`,
      });
    check.nodes?.forEach((node, index) => {
      if (!nodeNames.includes(node))
        problems.push({
          path: ["checks", name, "nodes", index],
          message: `no node ${node} that runs resources (nodes: ${nodeNames.join(", ")})`,
        });
    });
  }
  return problems;
}

/**
 * Every check does something: acts on a resource, sets a node attribute, or judges a virtual
 * service's real server; and a real server's check is one that every director node runs itself.
 */
function checkUses(document: ResourceDocument): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const judging = new Set<string>();
  for (const [id, service] of Object.entries(document.virtual_services)) {
    service.real_servers.forEach((server, index) => {
      if (server.check === undefined) return;
      judging.add(server.check);
      const path = ["virtual_services", id, "real_servers", index, "check"];
      const check = Object.hasOwn(document.checks, server.check)
        ? document.checks[server.check]
        : undefined;
      if (check === undefined)
        problems.push({
          path,
          message: `no check named ${server.check} (checks: ${Object.keys(document.checks).sort().join(", ") || "none"})`,
        });
      else if (check.ttl !== undefined)
        problems.push({
          path,
          message: `check ${server.check} is a ttl check, reported to one node: a real server's check is http, tcp or exec, tried by every node that may direct`,
        });
      else if (check.resource !== undefined)
        problems.push({
          path,
          message: `check ${server.check} watches resource ${check.resource} (its failure restarts it): a real server's check must not, drop its resource:`,
        });
    });
  }
  for (const [name, check] of Object.entries(document.checks))
    if (check.resource === undefined && check.attribute === undefined && !judging.has(name))
      problems.push({
        path: ["checks", name],
        message:
          "a check acts on a resource (resource:), sets a node attribute (attribute:) or judges a virtual service's real server (its check:): give one",
      });
  return problems;
}

/** `on_fail: fence` wherever it is written, in a cluster that cannot fence. */
function fenceWithoutFencing(document: ResourceDocument): ConfigProblem[] {
  const metaOf = (written: unknown) =>
    typeof written === "object" && written !== null && "meta" in written
      ? (written.meta as { on_fail?: string })
      : {};
  return (["resources", "virtual_services", "groups", "clones"] as const).flatMap((section) =>
    Object.entries(document[section])
      .filter(([, written]) => metaOf(written).on_fail === "fence")
      .map(([id]) => ({
        path: [section, id, "meta", "on_fail"],
        message:
          "on_fail: fence fences the node where the monitor failed, and fencing is not enabled in the cluster configuration (fencing.devices, fencing.enabled): configure fencing, or choose restart, move or standby",
      })),
  );
}

/**
 * zod says only "Invalid input" of a value that fits none of a union's shapes: when exactly one
 * shape is the one it was meant to have (a mapping, not a list; a `location`, not an `order`),
 * that shape's problems are the ones to fix.
 */
function problemsOfIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.map((segment) =>
    typeof segment === "symbol" ? String(segment) : segment,
  );
  if (issue.code === "invalid_union") {
    const meant = issue.errors.filter(
      (branch) =>
        !branch.some(
          (inner) =>
            inner.path.length === 0 &&
            (inner.code === "invalid_type" || inner.code === "unrecognized_keys"),
        ),
    );
    const [only] = meant;
    if (meant.length === 1 && only !== undefined)
      return only.flatMap((inner) =>
        problemsOfIssue({ ...inner, path: [...issue.path, ...inner.path] }),
      );
  }
  // A name refused by its key schema: zod says only "Invalid key in record"; the reason is inside.
  if (issue.code === "invalid_key")
    return issue.issues.map((inner) => ({ path, message: inner.message }));
  return [{ path, message: issue.message }];
}

/** A top-level key that is no section: a misspelling, named with the section it resembles. */
function unknownSections(document: unknown): ConfigProblem[] {
  if (typeof document !== "object" || document === null || Array.isArray(document)) return [];
  return Object.keys(document)
    .filter((key) => !DOCUMENT_SECTIONS.includes(key))
    .map((key) => {
      const meant = closestMatch(key, DOCUMENT_SECTIONS);
      return {
        path: [key],
        message: `unknown section '${key}'${meant === undefined ? "" : `; did you mean '${meant}'?`} (the sections are ${DOCUMENT_SECTIONS.join(", ")})`,
      };
    });
}

/** Order cycles can never be satisfied: every order constraint of a cycle is pointed at. */
function checkOrderCycles(model: ResourceModel): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const cycle of findOrderCycles(model)) {
    model.constraints.forEach((constraint, index) => {
      if (constraint.kind === "order" && cycle.constraintIds.includes(constraint.id)) {
        problems.push({ path: ["constraints", index, "order"], message: cycle.message });
      }
    });
  }
  return problems;
}

/**
 * A resource with no allowed node (every node banned, colocated with something it is also kept
 * away from) can never run: refused up front, judged with every node online. Location rules on
 * node attributes are left out of that judgement: only the nodes know their attributes, at run
 * time, and any rule holds on some values and not on others. Judged without attributes, the
 * Pacemaker idiom "-INFINITY where connectivity is not_defined" banned every node. Every copy of
 * a promotable clone is judged as monitored (its score known), as it is once the clone runs.
 */
function checkPlaceable(model: ResourceModel, nodeNames: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const monitored = Object.fromEntries(
    Object.values(model.clones)
      .filter((clone) => clone.promotable)
      .flatMap((clone) => [
        [`promotion-score-${clone.id}`, NO_PROMOTION_SCORE],
        [replicationOffsetAttribute(clone.id), NO_PROMOTION_SCORE],
      ]),
  );
  let output: ReturnType<typeof computePlacement>;
  try {
    output = computePlacement({
      model: {
        ...model,
        constraints: model.constraints.filter(
          (c) => c.kind !== "location" || c.rules === undefined || c.rules.length === 0,
        ),
      },
      nodes: nodeNames.map((name) => ({
        name,
        online: true,
        standby: false,
        attributes: { ...monitored },
      })),
      current: {},
      failCounts: {},
      nowMs: 0,
      maintenance: false,
    });
  } catch (error) {
    return [{ path: [], message: `cannot be placed: ${(error as Error).message}` }];
  }
  for (const { resource, reason } of output.unplaceable) {
    problems.push({
      path: pathOf(model, resource),
      message: `${resource} cannot run on any node: ${reason}`,
    });
  }
  return problems;
}

function pathOf(model: ResourceModel, resource: string): ConfigPath {
  const base = resource.split(/[:/]/)[0] ?? resource;
  const primitive = model.primitives[base];
  if (primitive !== undefined)
    return [primitive.agent.kind === "director" ? "virtual_services" : "resources", base];
  if (model.groups[base] !== undefined) return ["groups", base];
  if (model.clones[base] !== undefined) return ["clones", base];
  return ["constraints"];
}

/** "resources.web.agent: unknown agent ..." lines, for messages without a file. */
export function describeProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((problem) => `${problem.path.join(".") || "(document)"}: ${problem.message}`)
    .join("; ");
}
