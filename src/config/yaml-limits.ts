import {
  type Document,
  isAlias,
  isCollection,
  isPair,
  type Node,
  Parser,
  type CST as YamlCst,
} from "yaml";

/**
 * Bounds on what a YAML file may make the agent or the CLI do. Each is far above any real
 * cluster file or resource document and far below what hurts: the composer and every later
 * walk of the value (toJS, zod, JSON.stringify, the state machine) recurse once per level, and
 * aliases let a few lines stand for billions of values (the "billion laughs").
 */
export const YAML_MAX_BYTES = 1024 * 1024;
/** Levels of nested mappings and sequences, aliases expanded; real files use fewer than ten. */
export const YAML_MAX_DEPTH = 64;
/** Values that aliases may add to the document when expanded. */
export const YAML_MAX_ALIASED_VALUES = 100_000;

/** Why a text is refused before (or instead of) being turned into a value, and where. */
export interface YamlLimitProblem {
  /** Offset into the text of the node the problem was found at. */
  offset: number;
  message: string;
}

export function checkSize(text: string): YamlLimitProblem | null {
  const bytes = Buffer.byteLength(text, "utf8");
  return bytes <= YAML_MAX_BYTES ? null : { offset: 0, message: tooLarge(bytes) };
}

export function tooLarge(bytes: number): string {
  return `the file is ${bytes} bytes; at most ${YAML_MAX_BYTES} are accepted`;
}

/**
 * The nesting of the text as the parser sees it (flow `[`/`{` and block indentation alike),
 * measured without recursion on the concrete syntax tree, which the parser builds with a stack
 * of its own: a file of ten thousand `[` is refused here instead of overflowing the composer.
 */
export function checkNesting(text: string): YamlLimitProblem | null {
  for (const top of new Parser().parse(text)) {
    const pending: Array<{ token: YamlCst.Token | null | undefined; depth: number }> = [
      { token: top, depth: 0 },
    ];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const { token, depth } = next;
      if (token === null || token === undefined) continue;
      if (token.type === "document") {
        pending.push({ token: token.value, depth });
        continue;
      }
      if (
        token.type !== "block-map" &&
        token.type !== "block-seq" &&
        token.type !== "flow-collection"
      )
        continue;
      if (depth + 1 > YAML_MAX_DEPTH) return tooDeep(token.offset);
      for (const item of token.items as YamlCst.CollectionItem[]) {
        pending.push({ token: item.key, depth: depth + 1 });
        pending.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return null;
}

function tooDeep(offset: number): YamlLimitProblem {
  return {
    offset,
    message: `mappings and sequences nest deeper than ${YAML_MAX_DEPTH} levels here`,
  };
}

/**
 * What the aliases of a composed document expand to: their values counted, and the depth each
 * reaches where it is used; an alias to a node that contains it (a value that would be infinite)
 * is refused too. Recursion is safe here: checkNesting bounded the written depth, and aliases
 * are not followed, their anchored node's figures having been recorded when it was passed.
 */
export function checkAliases(document: Document): YamlLimitProblem | null {
  interface Extent {
    values: number;
    height: number;
  }
  const extentOfAnchored = new Map<unknown, Extent>();
  let aliasedValues = 0;
  let problem: YamlLimitProblem | null = null;

  const visit = (node: unknown, depth: number): Extent => {
    if (problem !== null) return { values: 0, height: 0 };
    if (isAlias(node)) {
      const extent = extentOfAnchored.get(node.resolve(document));
      const offset = node.range?.[0] ?? 0;
      if (extent === undefined) {
        problem = { offset, message: `alias *${node.source} is inside the node it refers to` };
        return { values: 0, height: 0 };
      }
      aliasedValues += extent.values;
      if (aliasedValues > YAML_MAX_ALIASED_VALUES)
        problem = {
          offset,
          message: `aliases expand to more than ${YAML_MAX_ALIASED_VALUES} values by here; write the values out or use fewer aliases`,
        };
      else if (depth + extent.height > YAML_MAX_DEPTH)
        problem = {
          offset,
          message: `alias *${node.source} nests mappings and sequences deeper than ${YAML_MAX_DEPTH} levels`,
        };
      return extent;
    }
    let extent: Extent = { values: 1, height: 0 };
    if (isCollection(node)) {
      for (const item of node.items) {
        for (const child of isPair(item) ? [item.key, item.value] : [item]) {
          const inner = visit(child, depth + 1);
          extent = {
            values: extent.values + inner.values,
            height: Math.max(extent.height, inner.height + 1),
          };
        }
      }
      extent.height = Math.max(extent.height, 1);
    }
    if ((node as Node | null)?.anchor !== undefined) extentOfAnchored.set(node, extent);
    return extent;
  };
  visit(document.contents, 0);
  return problem;
}

/**
 * Whether a value (a document that came as JSON, not through this loader) nests arrays and
 * objects deeper than YAML_MAX_DEPTH; measured without recursion.
 */
export function nestsTooDeep(value: unknown): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.value === null || typeof next.value !== "object") continue;
    if (next.depth + 1 > YAML_MAX_DEPTH) return true;
    for (const child of Object.values(next.value))
      pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}
