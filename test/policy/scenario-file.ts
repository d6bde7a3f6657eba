import { appendFileSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import {
  ConfigError,
  type ConfigProblem,
  formatIssue,
  formatKeyPath,
} from "../../src/config/errors.js";
import { closestMatch } from "../../src/config/suggest.js";
import { parseYamlText, type YamlSource } from "../../src/config/yaml-file.js";
import { YamlLocator } from "../../src/config/yaml-locator.js";
import type { SimulatedChange } from "../../src/policy/index.js";
import type { Placed, PolicyInput, PolicyOutput, RunRole } from "../../src/policy/types.js";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { INFINITY_SCORE } from "../../src/resource-model/types.js";

/**
 * Policy scenarios as data (test/policy/scenarios/*.yaml, described in the README there): the
 * input of `computePlacement` in the operator's YAML, and the output expected of it.
 */

/** Agent of a resource written without one: the policy engine never looks at agents. */
export const DEFAULT_SCENARIO_AGENT = "exec:/bin/true";
export const DEFAULT_NOW_MS = 1_000_000;

const ROLES: readonly RunRole[] = ["started", "promoted", "unpromoted"];
const RESOURCE_AT_NODE = /^[^@\s]+@[^@\s]+$/;

/** The expected (or computed) result as a scenario file shows it, ready for comparison. */
export interface Shown {
  actions: string[];
  /** Key → "NODE", "NODE ROLE", a list of those, or "stopped"; keys sorted. */
  placement: Record<string, string | string[]>;
  /** Present only when not empty. */
  unplaceable?: Record<string, string>;
  blocked?: Record<string, string>;
  waiting?: Record<string, string>;
  /** Only the score lines the file lists ("RESOURCE@NODE"). */
  scores?: Record<string, ShownScore>;
}
export type ShownScore = number | string | { score: number | string; reasons: string[] };

export type Expectation = { error: string } | { shown: Shown };

export interface Scenario {
  /** The file as messages name it (relative to the working directory). */
  file: string;
  description: string;
  input: PolicyInput;
  simulate: SimulatedChange | undefined;
  /** Undefined: the file has no `expected` section yet. */
  expected: Expectation | undefined;
}

// --- the file's own sections ---------------------------------------------------------------

type Issues = {
  addIssue(issue: { code: "custom"; message: string; path?: Array<string | number> }): void;
};

/** "NODE", "NODE ROLE", either with a trailing "instructed" (the leader put it there). */
function readPlaced(
  text: string,
  context: Issues,
  path: Array<string | number>,
): Placed | undefined {
  const words = text.trim().split(/\s+/);
  const instructed = words.at(-1) === "instructed" && words.length > 1;
  if (instructed) words.pop();
  const [node, role = "started", ...rest] = words;
  if (node === undefined || node === "" || rest.length > 0 || !ROLES.includes(role as RunRole)) {
    context.addIssue({
      code: "custom",
      path,
      message: `expected "NODE" or "NODE ROLE" (ROLE: ${ROLES.join(", ")}), optionally followed by "instructed"; got "${text}"`,
    });
    return undefined;
  }
  return { node, role: role as RunRole, ...(instructed ? { instructed: true } : {}) };
}

/** A placement value: "stopped" (or []), one placed copy, or a list of them. */
const placementSchema = z.unknown().transform((value, context): Placed[] => {
  if (value === "stopped") return [];
  const items = Array.isArray(value) ? value : [value];
  const placed: Placed[] = [];
  items.forEach((item, index) => {
    const path = Array.isArray(value) ? [index] : [];
    if (typeof item !== "string") {
      context.addIssue({
        code: "custom",
        path,
        message: `expected "stopped", "NODE", "NODE ROLE" or a list of "NODE [ROLE]"; got ${JSON.stringify(item)}`,
      });
      return;
    }
    const one = readPlaced(item, context, path);
    if (one !== undefined) placed.push(one);
  });
  return placed;
});

const scoreValueSchema = z.union([
  z.number().int(),
  z.enum(["INFINITY", "+INFINITY", "-INFINITY"], {
    error: 'expected a whole number, "INFINITY" or "-INFINITY"',
  }),
]);
const resourceAtNode = z.string().regex(RESOURCE_AT_NODE, "expected RESOURCE@NODE");

const nodeSchema = z
  .strictObject({
    online: z.boolean().default(true),
    standby: z.boolean().default(false),
    attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  })
  .nullable();

const expectedSchema = z.strictObject({
  error: z.string().min(1).optional(),
  actions: z.array(z.string()).optional(),
  placement: z.record(z.string(), placementSchema).optional(),
  unplaceable: z.record(z.string(), z.string()).optional(),
  blocked: z.record(z.string(), z.string()).optional(),
  waiting: z.record(z.string(), z.string()).optional(),
  scores: z
    .record(
      resourceAtNode,
      z.union([
        scoreValueSchema,
        z.strictObject({ score: scoreValueSchema, reasons: z.array(z.string()) }),
      ]),
    )
    .optional(),
});

const scenarioSchema = z.strictObject({
  description: z.string().trim().min(1, "say in one line what the scenario shows"),
  nodes: z
    .record(
      z
        .string()
        .min(1)
        // Plain objects put whole-number keys first: the order of `nodes` would be lost.
        .refine((name) => !/^(0|[1-9]\d*)$/.test(name), "a node name may not be a whole number"),
      nodeSchema,
    )
    .refine((nodes) => Object.keys(nodes).length > 0, "expected at least one node"),
  // The resource sections, checked by the cluster document's own validator below.
  resources: z.unknown().optional(),
  groups: z.unknown().optional(),
  clones: z.unknown().optional(),
  constraints: z.unknown().optional(),
  current: z.record(z.string(), placementSchema).default({}),
  fail_counts: z
    .record(
      z.string(),
      z.record(
        z.string(),
        z.strictObject({
          count: z.union([z.number().int().min(0), z.literal("INFINITY")]),
          last_failure_ms: z.number().int().min(0).optional(),
        }),
      ),
    )
    .default({}),
  now_ms: z.number().int().min(0).default(DEFAULT_NOW_MS),
  maintenance: z.boolean().default(false),
  simulate: z
    .strictObject({
      fail_node: z.string().min(1).optional(),
      standby_node: z.string().min(1).optional(),
      fail_resource: resourceAtNode.optional(),
    })
    .optional(),
  expected: expectedSchema.optional(),
});

type WrittenScenario = z.output<typeof scenarioSchema>;
type WrittenExpected = z.output<typeof expectedSchema>;

// --- loading -------------------------------------------------------------------------------

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
}

/** Reads and checks a scenario; every problem names the file, line and key. */
export function loadScenario(path: string): Scenario {
  const file = relative(process.cwd(), path) || path;
  let source: YamlSource;
  try {
    source = parseYamlText(readFileSync(path, "utf8"), file);
  } catch (error) {
    if (error instanceof ConfigError && error.issues.length > 0) {
      throw invalid(file, error.issues.map(formatIssue));
    }
    throw new ScenarioError(`${file}: ${(error as Error).message}`);
  }
  const locator = new YamlLocator(source.document, source.lineCounter);
  const located = (problems: readonly ConfigProblem[]) =>
    problems.map((problem) => {
      const { line, column } =
        problem.key === undefined
          ? locator.valueAt(problem.path)
          : locator.keyAt(problem.path, problem.key);
      const keyPath = formatKeyPath(
        problem.key === undefined ? problem.path : [...problem.path, problem.key],
      );
      return formatIssue({ file, line, column, keyPath, message: problem.message });
    });

  const parsed = checkShape(source.value);
  if ("problems" in parsed) throw invalid(file, located(parsed.problems));
  const written = parsed.data;
  const nodeNames = Object.keys(written.nodes);
  const problems: ConfigProblem[] = [];

  const checked = checkResourceDocument(resourceDocument(written), nodeNames, {
    purpose: "use",
  });
  problems.push(...checked.problems);
  for (const [resource, perNode] of Object.entries(written.fail_counts)) {
    for (const node of Object.keys(perNode)) {
      if (!nodeNames.includes(node)) {
        problems.push({
          path: ["fail_counts", resource, node],
          message: `no node named ${node} (nodes: ${nodeNames.join(", ")}); the engine ignores fail counts on unknown nodes`,
        });
      }
    }
  }
  const expected = readExpected(written.expected, problems);
  if (problems.length > 0 || checked.model === null) throw invalid(file, located(problems));

  return {
    file,
    description: written.description,
    input: {
      model: checked.model,
      nodes: Object.entries(written.nodes).map(([name, node]) => ({
        name,
        online: node?.online ?? true,
        standby: node?.standby ?? false,
        attributes: Object.fromEntries(
          Object.entries(node?.attributes ?? {}).map(([key, value]) => [key, String(value)]),
        ),
      })),
      current: written.current,
      failCounts: Object.fromEntries(
        Object.entries(written.fail_counts).map(([resource, perNode]) => [
          resource,
          Object.fromEntries(
            Object.entries(perNode).map(([node, failures]) => [
              node,
              {
                count: failures.count === "INFINITY" ? INFINITY_SCORE : failures.count,
                lastFailureAtMs: failures.last_failure_ms ?? written.now_ms,
              },
            ]),
          ),
        ]),
      ),
      nowMs: written.now_ms,
      maintenance: written.maintenance,
    },
    simulate: simulatedChange(written.simulate),
    expected,
  };
}

/** The file against the scenario schema; unknown keys are pointed at, with a suggestion. */
function checkShape(value: unknown): { data: WrittenScenario } | { problems: ConfigProblem[] } {
  const allowedKeys = new Map<string, string[]>();
  const parsed = scenarioSchema.safeParse(value ?? {}, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
        allowedKeys.set(JSON.stringify(issue.path ?? []), Object.keys(shape ?? {}));
      }
      return undefined;
    },
  });
  if (parsed.success) return { data: parsed.data };
  const problems: ConfigProblem[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeys.get(JSON.stringify(issue.path)) ?? [];
      for (const key of issue.keys) {
        const suggestion = closestMatch(key, allowed);
        const hint =
          suggestion !== undefined
            ? `did you mean '${suggestion}'?`
            : `allowed: ${allowed.join(", ")}`;
        problems.push({ path, key, message: `unknown key '${key}'; ${hint}` });
      }
    } else if (issue.code === "invalid_key") {
      // A record key refused by its own schema: say why, not just "invalid key".
      problems.push({ path, message: issue.issues[0]?.message ?? issue.message });
    } else problems.push({ path, message: issue.message });
  }
  return { problems };
}

function invalid(file: string, lines: readonly string[]): ScenarioError {
  const count = lines.length === 1 ? "1 problem" : `${lines.length} problems`;
  return new ScenarioError(`invalid scenario ${file} (${count}):\n${lines.join("\n")}`);
}

/** The resource sections as a cluster document; a resource may leave out its agent. */
function resourceDocument(written: WrittenScenario): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  if (written.resources !== undefined) document.resources = withAgents(written.resources);
  if (written.groups !== undefined) document.groups = written.groups;
  if (written.clones !== undefined) document.clones = written.clones;
  if (written.constraints !== undefined) document.constraints = written.constraints;
  return document;
}

function withAgents(resources: unknown): unknown {
  if (typeof resources !== "object" || resources === null || Array.isArray(resources)) {
    return resources;
  }
  return Object.fromEntries(
    Object.entries(resources).map(([id, spec]) => {
      if (spec === null) return [id, { agent: DEFAULT_SCENARIO_AGENT }];
      if (typeof spec === "object" && !Array.isArray(spec) && !("agent" in spec)) {
        return [id, { agent: DEFAULT_SCENARIO_AGENT, ...spec }];
      }
      return [id, spec];
    }),
  );
}

function simulatedChange(written: WrittenScenario["simulate"]): SimulatedChange | undefined {
  if (written === undefined) return undefined;
  const change: SimulatedChange = {};
  if (written.fail_node !== undefined) change.failNode = written.fail_node;
  if (written.standby_node !== undefined) change.standbyNode = written.standby_node;
  if (written.fail_resource !== undefined) {
    const [resource = "", node = ""] = written.fail_resource.split("@");
    change.failResource = { resource, node };
  }
  return change;
}

function readExpected(
  written: WrittenExpected | undefined,
  problems: ConfigProblem[],
): Expectation | undefined {
  if (written === undefined) return undefined;
  const { error, actions, placement, ...rest } = written;
  if (error !== undefined) {
    const others = Object.keys(written).filter((key) => key !== "error");
    if (others.length > 0) {
      problems.push({
        path: ["expected"],
        message: `an expected error stands alone; remove ${others.join(", ")}`,
      });
    }
    return { error };
  }
  if (actions === undefined || placement === undefined) {
    problems.push({
      path: ["expected"],
      message: "expected needs actions (a list, [] for none) and placement, or error",
    });
    return undefined;
  }
  return {
    shown: {
      actions: actions.map((action) => action.trim().replace(/\s+/g, " ")),
      placement: showPlacement(placement),
      ...nonEmpty("unplaceable", rest.unplaceable ?? {}),
      ...nonEmpty("blocked", rest.blocked ?? {}),
      ...nonEmpty("waiting", rest.waiting ?? {}),
      ...(rest.scores !== undefined
        ? {
            scores: sortedRecord(
              Object.fromEntries(
                Object.entries(rest.scores).map(([key, line]) => [
                  key,
                  typeof line === "object"
                    ? { score: showScore(scoreOf(line.score)), reasons: line.reasons }
                    : showScore(scoreOf(line)),
                ]),
              ),
            ),
          }
        : {}),
    },
  };
}

// --- showing the engine's output the way files write it ------------------------------------

function scoreOf(written: number | string): number {
  if (typeof written === "number") return written;
  return written.startsWith("-") ? -INFINITY_SCORE : INFINITY_SCORE;
}

function showScore(score: number): number | string {
  if (score >= INFINITY_SCORE) return "INFINITY";
  if (score <= -INFINITY_SCORE) return "-INFINITY";
  return score;
}

function showPlaced(list: readonly Placed[]): string | string[] {
  const texts = list.map((placed) =>
    [
      placed.node,
      placed.role === "started" ? [] : [placed.role],
      placed.instructed ? ["instructed"] : [],
    ]
      .flat()
      .join(" "),
  );
  if (texts.length === 0) return "stopped";
  return texts.length === 1 ? (texts[0] as string) : texts;
}

function showPlacement(placement: Record<string, Placed[]>): Record<string, string | string[]> {
  return sortedRecord(
    Object.fromEntries(Object.entries(placement).map(([key, list]) => [key, showPlaced(list)])),
  );
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

function nonEmpty<K extends string>(
  key: K,
  record: Record<string, string>,
): Partial<Record<K, Record<string, string>>> {
  return Object.keys(record).length === 0
    ? {}
    : ({ [key]: sortedRecord(record) } as Partial<Record<K, Record<string, string>>>);
}

function fromList(list: ReadonlyArray<{ resource: string; reason: string }> | undefined) {
  return Object.fromEntries((list ?? []).map(({ resource, reason }) => [resource, reason]));
}

/**
 * The engine's output in the file's terms. `like` (the expectation) chooses which score lines
 * are shown and in which form; without it, none (a new file's scores are the author's choice).
 */
export function showOutput(output: PolicyOutput, like?: Shown): Shown {
  const shown: Shown = {
    actions: output.actions.map((action) =>
      action.after.length === 0 ? action.id : `${action.id} after ${action.after.join(", ")}`,
    ),
    placement: showPlacement(output.placement),
    ...nonEmpty("unplaceable", fromList(output.unplaceable)),
    ...nonEmpty("blocked", fromList(output.blocked)),
    ...nonEmpty("waiting", fromList(output.waiting)),
  };
  if (like?.scores !== undefined) {
    const scores: Record<string, ShownScore> = {};
    for (const [key, wanted] of Object.entries(like.scores)) {
      const line = output.scores.find((l) => `${l.resource}@${l.node}` === key);
      if (line === undefined) scores[key] = "(no such score line)";
      else if (typeof wanted === "object") {
        scores[key] = { score: showScore(line.score), reasons: line.reasons };
      } else scores[key] = showScore(line.score);
    }
    shown.scores = scores;
  }
  return shown;
}

/** The `expected` section as YAML text, for comparison and for writing into a file. */
export function expectedText(expected: Expectation): string {
  const body = "error" in expected ? { error: expected.error } : expected.shown;
  return stringify({ expected: body }, { lineWidth: 0 });
}

/** Appends an `expected` section to a file that has none (the rest of the file is untouched). */
export function appendExpected(path: string, expected: Expectation): void {
  const text = readFileSync(path, "utf8");
  appendFileSync(path, `${text.endsWith("\n") ? "" : "\n"}${expectedText(expected)}`);
}

/** A line diff of two texts (longest common subsequence): "-" expected, "+" actual. */
export function lineDiff(expected: string, actual: string): string {
  const a = expected.trimEnd().split("\n");
  const b = actual.trimEnd().split("\n");
  const common: number[][] = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = common[i] as number[];
      row[j] =
        a[i] === b[j]
          ? (common[i + 1]?.[j + 1] ?? 0) + 1
          : Math.max(common[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (
      i < a.length &&
      (j >= b.length || (common[i + 1]?.[j] ?? 0) >= (common[i]?.[j + 1] ?? 0))
    ) {
      lines.push(`- ${a[i]}`);
      i++;
    } else {
      lines.push(`+ ${b[j]}`);
      j++;
    }
  }
  return lines.join("\n");
}
