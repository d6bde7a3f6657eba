import { canonicalJson, isJsonObject, type JsonValue } from "./json.js";

/**
 * Which placement keys (fail counts and cells are recorded per key) a resource name stands for,
 * read from the raw documents: the state machine must apply any committed document the same way
 * on every node, so it parses nothing and trusts nothing about their shape.
 */

/** The name itself and, for a clone, its copies: "db:0", "web:1/ip" (ids cannot hold ":"). */
export function keysNamedBy(resource: string, keys: Iterable<string>): string[] {
  return [...keys].filter((key) => key === resource || key.startsWith(`${resource}:`));
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
    const copy = /^([^:]+):\d+(?:\/(.+))?$/.exec(key);
    if (copy === null) return changedSet.has(key);
    const [, clone = "", member] = copy;
    if (member !== undefined) return changedSet.has(member);
    return changed.some((id) => clonesOf.get(id)?.includes(clone) === true);
  });
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
