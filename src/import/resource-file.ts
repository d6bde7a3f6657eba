import { checkResourceDocument, describeProblems } from "../resource-check/check-document.js";
import type { ImportReport, Placeholder } from "./report.js";
import { yamlWithComments } from "./yaml-out.js";

/** A resource document being assembled, section by section, in the order a reader expects. */
export interface ResourceDocumentDraft {
  resources: Record<string, Record<string, unknown>>;
  virtual_services: Record<string, Record<string, unknown>>;
  groups: Record<string, Record<string, unknown>>;
  constraints: Record<string, unknown>[];
  checks: Record<string, Record<string, unknown>>;
}

export function emptyDocument(): ResourceDocumentDraft {
  return { resources: {}, virtual_services: {}, groups: {}, constraints: [], checks: {} };
}

/**
 * An id for a resource, group or check from what the input called it: Vigil's id characters,
 * and a number appended when the id is taken (ids of resources, groups and services share one
 * namespace; checks have their own).
 */
export function freshId(wanted: string, taken: (id: string) => boolean): string {
  const base =
    wanted
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[^A-Za-z0-9]+/, "")
      .slice(0, 60) || "resource";
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base}-${n}`;
  return id;
}

export function takenInDocument(document: ResourceDocumentDraft): (id: string) => boolean {
  return (id) =>
    id in document.resources || id in document.groups || id in document.virtual_services;
}

/**
 * The resource document's text, with the placeholders commented, after the same shape,
 * reference and placement checks `vigil config apply` runs (the agents themselves are checked
 * by `vigil config apply` on a cluster node, where they are installed).
 */
export function writeResourceDocument(
  draft: ResourceDocumentDraft,
  nodeNames: readonly string[],
  report: ImportReport,
  header: readonly string[],
): { text: string; document: Record<string, unknown> } {
  const document: Record<string, unknown> = {};
  for (const [section, value] of Object.entries(draft))
    if (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)
      document[section] = value;
  const { problems } = checkResourceDocument(document, nodeNames);
  if (problems.length > 0)
    throw new Error(`the translated resource document is refused: ${describeProblems(problems)}`);
  const mine: Placeholder[] = report.placeholders.filter((p) => p.document === "resources");
  const text = yamlWithComments(
    document,
    header,
    mine.map(({ path, message }) => ({ path, text: `CHANGE ME: ${message}` })),
  );
  return { text, document };
}
