import type { Rule } from "../resource-model/types.js";

/** A string is compared as a number only when it is a plain finite number ("10", "-2.5"). */
function asNumber(text: string): number | undefined {
  if (text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Numeric comparison when both sides are numbers, else code-unit string order (locale-free, so deterministic). */
function compare(actual: string, expected: string): number {
  const a = asNumber(actual);
  const b = asNumber(expected);
  if (a !== undefined && b !== undefined) return a === b ? 0 : a < b ? -1 : 1;
  return actual === expected ? 0 : actual < expected ? -1 : 1;
}

/**
 * Evaluates one node-attribute rule. An attribute that is not defined on the node only satisfies
 * `not_defined` and `ne` (it is certainly not equal to the value), like Pacemaker's expressions.
 */
export function ruleMatches(
  rule: Rule,
  attributes: Record<string, string>,
  where: string,
): boolean {
  const actual = Object.hasOwn(attributes, rule.attribute) ? attributes[rule.attribute] : undefined;
  if (rule.op === "defined") return actual !== undefined;
  if (rule.op === "not_defined") return actual === undefined;
  if (rule.value === undefined) {
    throw new Error(
      `${where}: rule on attribute "${rule.attribute}" with op "${rule.op}" needs a value`,
    );
  }
  if (actual === undefined) return rule.op === "ne";
  const order = compare(actual, rule.value);
  switch (rule.op) {
    case "eq":
      return order === 0;
    case "ne":
      return order !== 0;
    case "lt":
      return order < 0;
    case "lte":
      return order <= 0;
    case "gt":
      return order > 0;
    case "gte":
      return order >= 0;
  }
}
