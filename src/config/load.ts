import { toVigilConfig } from "./derive.js";
import { ConfigError, type ConfigIssue, type ConfigProblem, formatKeyPath } from "./errors.js";
import type { VigilConfig } from "./schema.js";
import { checkSchema } from "./schema-issues.js";
import { validateConfig } from "./validate.js";
import { parseYamlText, readYamlFile, type YamlSource } from "./yaml-file.js";
import { YamlLocator } from "./yaml-locator.js";

export { ConfigError, type ConfigIssue } from "./errors.js";

/** Reads, parses, validates and resolves a configuration file. Throws ConfigError. */
export async function loadConfigFile(path: string): Promise<VigilConfig> {
  return validateYaml(await readYamlFile(path));
}

/**
 * Parses configuration text; `sourceName` is the file name used in messages. Problems are
 * collected per stage (YAML syntax and limits, then schema, then cross-field rules): a later
 * stage needs the earlier one's result, so it only runs when the earlier stage found nothing.
 */
export function parseConfigText(text: string, sourceName: string): VigilConfig {
  return validateYaml(parseYamlText(text, sourceName));
}

function validateYaml({ file, document, lineCounter, value }: YamlSource): VigilConfig {
  const locator = new YamlLocator(document, lineCounter);
  const locate = (problems: readonly ConfigProblem[]) =>
    sortByPosition(problems.map((problem) => locateProblem(problem, locator, file)));

  const checked = checkSchema(value);
  if (checked.config === undefined) throw ConfigError.fromIssues(file, locate(checked.problems));
  const problems = validateConfig(checked.config);
  if (problems.length > 0) throw ConfigError.fromIssues(file, locate(problems));
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
