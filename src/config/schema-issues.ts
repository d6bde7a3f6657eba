import type { z } from "zod";
import { type ConfigPath, type ConfigProblem, formatKeyPath } from "./errors.js";
import { configSchema, type ParsedConfig } from "./schema.js";
import { closestMatch } from "./suggest.js";

type SchemaCheck =
  | { config: ParsedConfig; problems: [] }
  | { config: undefined; problems: ConfigProblem[] };

/**
 * Checks a parsed YAML value against the schema and words every failure as "what was expected
 * (got what)"; unknown keys become one problem each, with the closest allowed key suggested.
 */
export function checkSchema(raw: unknown): SchemaCheck {
  if (raw === null || raw === undefined) {
    return {
      config: undefined,
      problems: [
        {
          path: [],
          message: "the file is empty; expected a mapping with cluster, nodes and links",
        },
      ],
    };
  }
  // Filled in by the error map, which is the only place zod hands over the strict object whose
  // keys were not recognised; keyed by the mapping's path.
  const allowedKeysByPath = new Map<string, string[]>();
  const result = configSchema.safeParse(raw, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        allowedKeysByPath.set(formatKeyPath(configPath(issue.path ?? [])), objectKeys(issue.inst));
        return undefined;
      }
      return describeExpectation(issue);
    },
  });
  if (result.success) return { config: result.data, problems: [] };

  const problems: ConfigProblem[] = [];
  for (const issue of result.error.issues) {
    const path = configPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeysByPath.get(formatKeyPath(path)) ?? [];
      for (const key of issue.keys) {
        problems.push({ path, key, message: unknownKeyMessage(key, allowed) });
      }
    } else {
      const value = valueAt(raw, path);
      problems.push({
        path,
        message: `${issue.message} (got ${describeValue(value)}${quotingHint(issue, value)})`,
      });
    }
  }
  return { config: undefined, problems };
}

function configPath(path: readonly PropertyKey[]): ConfigPath {
  return path.filter((segment): segment is string | number => typeof segment !== "symbol");
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const suggestion = closestMatch(key, allowed);
  if (suggestion !== undefined) return `unknown key '${key}'; did you mean '${suggestion}'?`;
  return allowed.length === 0
    ? `unknown key '${key}'`
    : `unknown key '${key}'; allowed here: ${allowed.join(", ")}`;
}

function objectKeys(schema: unknown): string[] {
  const shape = (schema as { shape?: unknown } | undefined)?.shape;
  return shape !== null && typeof shape === "object" ? Object.keys(shape) : [];
}

/** zod's wording is for developers; this says what a YAML author should have written. */
function describeExpectation(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small": {
      const minimum = Number(issue.minimum);
      if (issue.origin === "array") return `expected at least ${plural(minimum, "item")}`;
      if (issue.origin === "string")
        return minimum === 1
          ? "expected a non-empty string"
          : `expected at least ${plural(minimum, "character")}`;
      return issue.inclusive ? `expected at least ${minimum}` : `expected more than ${minimum}`;
    }
    case "too_big": {
      const maximum = Number(issue.maximum);
      if (issue.origin === "array") return `expected at most ${plural(maximum, "item")}`;
      if (issue.origin === "string") return `expected at most ${plural(maximum, "character")}`;
      return issue.inclusive ? `expected at most ${maximum}` : `expected less than ${maximum}`;
    }
    case "invalid_value":
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "invalid_union": {
      const options = (issue as { options?: unknown[] }).options;
      return Array.isArray(options) && options.length > 0
        ? `expected one of ${options.join(", ")}`
        : undefined;
    }
    case "invalid_format":
      return `expected a valid ${issue.format}`;
    default:
      return undefined;
  }
}

const TYPE_NAMES: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  record: "a mapping",
  array: "a list",
};

function plural(count: number, noun: string): string {
  return count === 1 ? `1 ${noun}` : `${count} ${noun}s`;
}

function valueAt(raw: unknown, path: ConfigPath): unknown {
  let value = raw;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** `id: "1"` is the commonest YAML slip: the quotes make it text. */
function quotingHint(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code !== "invalid_type" || typeof value !== "string") return "";
  const expectsNumber = issue.expected === "number" || issue.expected === "int";
  if (expectsNumber && value.trim() !== "" && Number.isFinite(Number(value)))
    return "; write numbers without quotes";
  if (issue.expected === "boolean" && (value === "true" || value === "false"))
    return "; write true or false without quotes";
  return "";
}

const MAX_SHOWN_CHARS = 40;

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing: the key is missing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    const shown = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}
