import { z } from "zod";

/**
 * A reader of one named-entries section of an applied document (`hooks`, `checks`): the entries
 * sorted by name, each with its name. The document was checked when it was applied; one whose
 * section no longer parses (written by an older version, say) has none, rather than stopping
 * the node. Memoised per document object: the state machine and the agent ask on every change.
 */
export function namedSectionReader<S extends z.ZodType<Record<string, object>>>(
  key: string,
  schema: S,
): (document: object) => ReadonlyArray<z.output<S>[string] & { name: string }> {
  type Entry = z.output<S>[string] & { name: string };
  const cache = new WeakMap<object, readonly Entry[]>();
  return (document) => {
    const known = cache.get(document);
    if (known !== undefined) return known;
    const raw = (document as Record<string, unknown>)[key];
    const parsed = raw === undefined ? null : schema.safeParse(raw);
    const entries: Entry[] =
      parsed === null || !parsed.success
        ? []
        : Object.entries(parsed.data as Record<string, object>)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([name, spec]) => ({ ...spec, name }) as Entry);
    cache.set(document, entries);
    return entries;
  };
}

/**
 * An entry's name (a hook, a check): letters, digits, . _ -, at most 64. Names become keys of
 * plain records (a hook's progress, say): never one that every object already has.
 */
export function entryNameSchema(what: string, example: string) {
  return z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      `expected a ${what} name such as ${example} (letters, digits, . _ -)`,
    )
    .refine((text) => !(text in Object.prototype), "this name is reserved: choose another");
}
