import { toVigilConfig } from "./derive.js";
import { ConfigError, type ConfigIssue, type ConfigProblem, formatKeyPath } from "./errors.js";
import type { VigilConfig } from "./schema.js";
import { checkSchema } from "./schema-issues.js";
import { validateConfig } from "./validate.js";
import { parseYamlText, readYamlFile, type YamlSource } from "./yaml-file.js";
import { YamlLocator } from "./yaml-locator.js";

export { ConfigError, type ConfigIssue } from "./errors.js";

/**
 * Checks of a valid configuration against this machine (the fence agents installed here, say),
 * which the pure validation cannot make; their problems are located in the file like the others.
 */
export type MachineCheck = (config: VigilConfig) => Promise<ConfigProblem[]>;

/**
 * Reads, parses, validates and resolves a configuration file, then runs `check` on it (when the
 * file itself is valid). Throws ConfigError.
 */
export async function loadConfigFile(path: string, check?: MachineCheck): Promise<VigilConfig> {
  const source = await readYamlFile(path);
  const config = validateYaml(source);
  if (check === undefined) return config;
  const problems = await check(config);
  if (problems.length > 0) throw ConfigError.fromIssues(source.file, locator(source)(problems));
  return config;
}

/**
 * Parses configuration text; `sourceName` is the file name used in messages. Problems are
 * collected per stage (YAML syntax and limits, then schema, then cross-field rules): a later
 * stage needs the earlier one's result, so it only runs when the earlier stage found nothing.
 */
export function parseConfigText(text: string, sourceName: string): VigilConfig {
  return validateYaml(parseYamlText(text, sourceName));
}

/** Turns problems into issues at their line and column of `source`, in file order. */
function locator({ file, document, lineCounter }: YamlSource) {
  const yaml = new YamlLocator(document, lineCounter);
  return (problems: readonly ConfigProblem[]) =>
    sortByPosition(problems.map((problem) => locateProblem(problem, yaml, file)));
}

function validateYaml(source: YamlSource): VigilConfig {
  const { file, value } = source;
  const locate = locator(source);

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
