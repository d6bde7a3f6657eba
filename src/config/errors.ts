/** A path into the configuration as zod and the YAML document see it: keys and list indexes. */
export type ConfigPath = ReadonlyArray<string | number>;

/**
 * A problem found in the parsed configuration, before it is located in the file: the path of
 * the offending value, or, when `key` is set, the path of the mapping whose key `key` is itself
 * the problem (an unknown key, a reference to an undeclared link): it is then the key's line.
 */
export interface ConfigProblem {
  path: ConfigPath;
  message: string;
  key?: string;
}

/** One problem with a configuration file, located at the YAML node it concerns. */
export interface ConfigIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** "nodes[1].links.ring2"; empty for problems with the file as a whole (YAML syntax). */
  keyPath: string;
  /** What was expected, and what was found. */
  message: string;
}

/**
 * Everything wrong with a configuration file at once, so that one `vigil config validate` run
 * shows every problem instead of one per edit.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, issues: readonly ConfigIssue[] = []) {
    super(message);
    this.issues = issues;
  }

  static fromIssues(file: string, issues: readonly ConfigIssue[]): ConfigError {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    const lines = issues.map(formatIssue);
    return new ConfigError(
      `invalid configuration ${file} (${count}):\n${lines.join("\n")}`,
      issues,
    );
  }
}

/** FILE:LINE:COL: key.path: message — the shape editors and terminals turn into links. */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.keyPath === ""
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.keyPath}: ${issue.message}`;
}

/** ["nodes", 1, "links", "ring2"] → "nodes[1].links.ring2". */
export function formatKeyPath(path: ConfigPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text;
}
