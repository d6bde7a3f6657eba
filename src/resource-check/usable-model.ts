import type { ConfigProblem } from "../config/errors.js";
import type { ResourceModel } from "../resource-model/types.js";
import { checkResourceDocument, describeProblems } from "./check-document.js";

type Section = "resources" | "virtual_services" | "groups" | "clones";
const SECTIONS: readonly Section[] = ["resources", "virtual_services", "groups", "clones"];
const DROPPED = Symbol("dropped constraint");

/** The resource sections of a document as plain containers, entries removed as they fail. */
interface Working {
  resources: Record<string, unknown>;
  virtual_services: Record<string, unknown>;
  groups: Record<string, unknown>;
  clones: Record<string, unknown>;
  constraints: unknown[];
}

/**
 * The resource model of a committed document as this node can use it. Never throws: the entry
 * is in the log whatever checked it (an older or buggier validator, an API client), and every
 * node applies it at every start. Each resource the document does not define soundly here is
 * left out with its reason (`model.unusable`, shown by the leader as blocked or unplaceable),
 * and so is whatever depends on it: the members of its group, what its clone wraps, the
 * resources a broken or dangling constraint names (dropping a ban or a colocation instead
 * could start something where the operator forbade it); a constraint that names nothing
 * readable is left out alone. The rest is used as it is.
 */
export function usableResourceModel(
  document: unknown,
  nodeNames: readonly string[],
): { model: ResourceModel; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const unusable = new Map<string, string>();
  const result = (model: ResourceModel) => ({
    model: { ...model, unusable: Object.fromEntries(unusable) },
    problems,
  });
  const work = readSections(document);
  if (typeof work === "string") {
    problems.push({ path: [], message: work });
    for (const id of idsIn(document)) unusable.set(id, work);
    return result(emptyModel());
  }
  const everythingUnusable = (why: string) => {
    for (const section of SECTIONS)
      for (const id of Object.keys(work[section])) if (!unusable.has(id)) unusable.set(id, why);
    return result(emptyModel());
  };

  const drop = (section: Section, id: string, why: string) => {
    if (!Object.hasOwn(work[section], id)) return;
    const written = work[section][id];
    delete work[section][id];
    if (!unusable.has(id)) unusable.set(id, why);
    const because = `${section === "groups" ? "in group" : "cloned by"} ${id}, which cannot be used`;
    const dependants =
      section === "groups"
        ? membersOf(written)
        : section === "clones"
          ? [cloneTarget(written)]
          : [];
    for (const name of dependants) if (name !== undefined) dropAnywhere(name, because);
  };
  const dropAnywhere = (name: string, why: string) => {
    for (const section of SECTIONS) drop(section, name, why);
  };

  // Each round removes at least one entry, or gives up: bounded by the number of entries.
  const rounds = SECTIONS.reduce((n, s) => n + Object.keys(work[s]).length, 0) + 2;
  for (let round = 0; round <= rounds + work.constraints.length; round++) {
    let checked: ReturnType<typeof checkResourceDocument>;
    try {
      checked = checkResourceDocument(work, nodeNames, { purpose: "use" });
    } catch (error) {
      const why = `the document cannot be read: ${(error as Error).message}`;
      problems.push({ path: [], message: why });
      return everythingUnusable(why);
    }
    if (checked.model !== null) return result(checked.model);
    problems.push(...checked.problems);
    let progressed = false;
    for (const problem of checked.problems) {
      const [section, key] = problem.path;
      const why = describeProblems([problem]);
      if (isSection(section) && typeof key === "string" && Object.hasOwn(work[section], key)) {
        // Ids are one namespace: an id defined twice is left out wherever it is defined.
        dropAnywhere(key, why);
        progressed = true;
      } else if (section === "constraints" && typeof key === "number") {
        const written = work.constraints[key];
        if (written === undefined || written === DROPPED) continue;
        work.constraints[key] = DROPPED;
        progressed = true;
        // One that names nobody readable is left out on its own (it stays in the problems).
        for (const name of namesIn(written)) dropAnywhere(name, why);
      }
    }
    work.constraints = work.constraints.filter((written) => written !== DROPPED);
    if (!progressed) return everythingUnusable(describeProblems(checked.problems));
  }
  return everythingUnusable("the document's problems could not be narrowed down to resources");
}

function emptyModel(): ResourceModel {
  return { primitives: {}, groups: {}, clones: {}, constraints: [] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSection(value: unknown): value is Section {
  return (SECTIONS as readonly unknown[]).includes(value);
}

/**
 * Copies of the sections, or why none can be used: without a readable groups or clones
 * section, no resource can be run as the operator meant (alone instead of in its group or as
 * its clone). Constraints that cannot be read are left out one by one, like broken entries.
 */
function readSections(document: unknown): Working | string {
  if (!isRecord(document)) return "the configuration document is not a mapping";
  const work: Working = {
    resources: {},
    virtual_services: {},
    groups: {},
    clones: {},
    constraints: [],
  };
  for (const section of SECTIONS) {
    const written = document[section];
    if (written === undefined) continue;
    if (!isRecord(written)) return `${section}: expected a mapping of ids`;
    work[section] = { ...written };
  }
  const constraints = document.constraints;
  if (Array.isArray(constraints)) work.constraints = [...constraints];
  else if (constraints !== undefined) work.constraints = [constraints];
  return work;
}

function idsIn(document: unknown): string[] {
  if (!isRecord(document)) return [];
  return SECTIONS.flatMap((section) => {
    const written = document[section];
    return isRecord(written) ? Object.keys(written) : [];
  });
}

function membersOf(group: unknown): string[] {
  const members = Array.isArray(group) ? group : isRecord(group) ? group.members : undefined;
  return Array.isArray(members) ? members.filter((m): m is string => typeof m === "string") : [];
}

function cloneTarget(clone: unknown): string | undefined {
  return isRecord(clone) && typeof clone.of === "string" ? clone.of : undefined;
}

/** The resources a constraint names, as far as that can be read. */
function namesIn(constraint: unknown): string[] {
  if (!isRecord(constraint)) return [];
  return Object.values(constraint)
    .filter(isRecord)
    .flatMap((body) => ["resource", "with", "first", "then"].map((key) => body[key]))
    .filter((name): name is string => typeof name === "string");
}
