import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import { toVigilConfig } from "./derive.js";
import { ConfigError, type ConfigIssue, type ConfigProblem, formatKeyPath } from "./errors.js";
import type { VigilConfig } from "./schema.js";
import { checkSchema } from "./schema-issues.js";
import { validateConfig } from "./validate.js";
import { YamlLocator } from "./yaml-locator.js";

export { ConfigError, type ConfigIssue } from "./errors.js";

/** Reads, parses, validates and resolves a configuration file. Throws ConfigError. */
export async function loadConfigFile(path: string): Promise<VigilConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${describeReadError(error)}`);
  }
  return parseConfigText(text, path);
}

/**
 * Parses configuration text; `sourceName` is the file name used in messages. Problems are
 * collected per stage (YAML syntax, then schema, then cross-field rules): a later stage needs
 * the earlier one's result, so it only runs when the earlier stage found nothing.
 */
export function parseConfigText(text: string, sourceName: string): VigilConfig {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `no` and `off` stay strings, and a key may not appear twice.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw ConfigError.fromIssues(
      sourceName,
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return {
          file: sourceName,
          line,
          column: col,
          keyPath: "",
          message: `YAML syntax: ${firstLine(error.message)}`,
        };
      }),
    );
  }
  const locator = new YamlLocator(document, lineCounter);
  const locate = (problems: readonly ConfigProblem[]) =>
    sortByPosition(problems.map((problem) => locateProblem(problem, locator, sourceName)));

  const checked = checkSchema(document.toJS());
  if (checked.config === undefined)
    throw ConfigError.fromIssues(sourceName, locate(checked.problems));
  const problems = validateConfig(checked.config);
  if (problems.length > 0) throw ConfigError.fromIssues(sourceName, locate(problems));
  return toVigilConfig(checked.config);
}

function locateProblem(problem: ConfigProblem, locator: YamlLocator, file: string): ConfigIssue {
  const position =
    problem.key === undefined
      ? locator.valueAt(problem.path)
      : locator.keyAt(problem.path, problem.key);
  const path = problem.key === undefined ? problem.path : [...problem.path, problem.key];
  return { file, ...position, keyPath: formatKeyPath(path), message: problem.message };
}

function sortByPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return (error as Error).message;
  }
}
