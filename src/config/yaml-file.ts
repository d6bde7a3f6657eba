import { open } from "node:fs/promises";
import { type Document, LineCounter, parseDocument } from "yaml";
import { ConfigError, type ConfigIssue } from "./errors.js";
import {
  checkAliases,
  checkNesting,
  checkSize,
  tooLarge,
  YAML_MAX_BYTES,
  type YamlLimitProblem,
} from "./yaml-limits.js";

/** A YAML file turned into a value, with what is needed to point back into it. */
export interface YamlSource {
  file: string;
  text: string;
  document: Document;
  lineCounter: LineCounter;
  value: unknown;
}

/**
 * Reads a YAML file (the cluster file, a resource document): one loader, so that both are held
 * to the same limits. Throws ConfigError naming the file.
 */
export async function readYamlFile(path: string): Promise<YamlSource> {
  let text: string;
  try {
    const file = await open(path, "r");
    try {
      // Refused before reading: a huge file (or /dev/zero) must not be read into memory first.
      const { size } = await file.stat();
      if (size > YAML_MAX_BYTES) throw refusal(path, "", { offset: 0, message: tooLarge(size) });
      text = await file.readFile("utf8");
    } finally {
      await file.close();
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read config file ${path}: ${describeReadError(error)}`);
  }
  return parseYamlText(text, path);
}

/**
 * Parses YAML text; `file` names it in messages. The YAML 1.2 core schema: `no` and `off` stay
 * strings, and a key may not appear twice. Size and nesting are checked before the document is
 * composed, aliases before it is turned into a value.
 */
export function parseYamlText(text: string, file: string): YamlSource {
  const early = checkSize(text) ?? checkNesting(text);
  if (early !== null) throw refusal(file, text, early);
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw ConfigError.fromIssues(
      file,
      document.errors.map((error) => ({
        ...position(lineCounter, error.pos[0]),
        file,
        keyPath: "",
        message: `YAML syntax: ${firstLine(error.message)}`,
      })),
    );
  }
  const aliases = checkAliases(document);
  if (aliases !== null) throw refusal(file, text, aliases);
  // checkAliases bounds the expansion; yaml's own alias heuristic would also refuse an anchor
  // used more than 100 times, which is an ordinary file.
  return { file, text, document, lineCounter, value: document.toJS({ maxAliasCount: -1 }) };
}

/** A limit's refusal, at the line and column of the node it was found at. */
function refusal(file: string, text: string, problem: YamlLimitProblem): ConfigError {
  const before = text.slice(0, problem.offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  const issue: ConfigIssue = {
    file,
    line: before.split("\n").length,
    column: problem.offset - lineStart + 1,
    keyPath: "",
    message: `refused: ${problem.message}`,
  };
  return ConfigError.fromIssues(file, [issue]);
}

function position(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function describeReadError(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
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
