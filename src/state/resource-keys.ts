import { canonicalJson, isJsonObject, type JsonValue } from "./json.js";

/**
 * Which placement keys (fail counts and cells are recorded per key) a resource name stands for,
 * read from the raw documents: the state machine must apply any committed document the same way
 * on every node, so it parses nothing and trusts nothing about their shape.
 */

/** A clone's copy: "CLONE:N", or "CLONE:N/MEMBER" for a member of a cloned group. */
const COPY_KEY = /^([^:]+):\d+(?:\/(.+))?$/;

/**
 * The keys a resource name stands for in `document` (the committed configuration): the name
 * itself and, for a clone, its copies ("db:0", "web:1/ip"; ids cannot hold ":"); for a group, its
 * members (a group has no key of its own); for what a clone wraps, the clone's copies of it.
 */
export function keysNamedBy(
  resource: string,
  keys: Iterable<string>,
  document: JsonValue,
): string[] {
  const names = [resource, ...groupMembers(document, resource)];
  // Clones of the name, or of the group it is a member of: their copies hold its keys.
  const groupOfMember = Object.entries(section(document, "groups")).find(([, group]) =>
    membersOf(group).includes(resource),
  )?.[0];
  const clonesOf = (wrapped: string | undefined) =>
    Object.entries(section(document, "clones"))
      .filter(([, clone]) => isJsonObject(clone) && clone.of === wrapped && wrapped !== undefined)
      .map(([cloneId]) => cloneId);
  const copiesOf = new Set(clonesOf(resource));
  const copiesOfMember = new Set(clonesOf(groupOfMember));
  return [...keys].filter((key) => {
    if (names.some((name) => key === name || key.startsWith(`${name}:`))) return true;
    const copy = COPY_KEY.exec(key);
    if (copy === null) return false;
    const [, clone = "", member] = copy;
    return copiesOf.has(clone) || (member === resource && copiesOfMember.has(clone));
  });
}

/** The members of group `id` in the document; [] when it is no group. */
export function groupMembers(document: JsonValue, id: string): string[] {
  const groups = section(document, "groups");
  return Object.hasOwn(groups, id) ? membersOf(groups[id]) : [];
}

function membersOf(group: JsonValue | undefined): string[] {
  const members = Array.isArray(group) ? group : isJsonObject(group) ? group.members : undefined;
  return Array.isArray(members)
    ? members.filter((member): member is string => typeof member === "string")
    : [];
}

/**
 * Keys of the primitives whose definition (agent, parameters, operations) `next` changes or
 * removes: what ran them failed under a definition that is gone (Pacemaker clears their fail
 * counts the same way), so the failures of a broken definition do not keep the fixed one off
 * its nodes.
 */
export function keysOfChangedDefinitions(
  previous: JsonValue,
  next: JsonValue,
  keys: Iterable<string>,
): string[] {
  const before = section(previous, "resources");
  const after = section(next, "resources");
  const changed = Object.keys(before).filter(
    (id) => !Object.hasOwn(after, id) || definition(before[id]) !== definition(after[id]),
  );
  if (changed.length === 0) return [];
  const clonesOf = new Map<string, string[]>();
  for (const clones of [section(previous, "clones"), section(next, "clones")]) {
    for (const [cloneId, clone] of Object.entries(clones)) {
      const of = isJsonObject(clone) ? clone.of : undefined;
      if (typeof of === "string") clonesOf.set(of, [...(clonesOf.get(of) ?? []), cloneId]);
    }
  }
  const changedSet = new Set(changed);
  return [...keys].filter((key) => {
    const copy = COPY_KEY.exec(key);
    if (copy === null) return changedSet.has(key);
    const [, clone = "", member] = copy;
    if (member !== undefined) return changedSet.has(member);
    return changed.some((id) => clonesOf.get(id)?.includes(clone) === true);
  });
}

/** Whether `key` can still be a placement key of `document`: its primitive or its clone is defined. */
export function keyDefinedIn(key: string, document: JsonValue): boolean {
  const copy = COPY_KEY.exec(key);
  return copy === null
    ? Object.hasOwn(section(document, "resources"), key)
    : Object.hasOwn(section(document, "clones"), copy[1] ?? "");
}

function section(document: JsonValue, name: string): Record<string, JsonValue> {
  if (!isJsonObject(document)) return {};
  const value = document[name];
  return isJsonObject(value) ? value : {};
}

function definition(resource: JsonValue | undefined): string {
  if (!isJsonObject(resource)) return canonicalJson(resource ?? null);
  const { agent, params, operations } = resource;
  return canonicalJson([agent ?? null, params ?? null, operations ?? null]);
}
