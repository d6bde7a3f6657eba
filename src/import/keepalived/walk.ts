import { ImportError, type ImportReport } from "../report.js";
import type { Statement } from "./parse.js";

/** The statement and everything in its block, for reporting a block as a whole. */
export function eachLine(statement: Statement): Statement[] {
  return [statement, ...(statement.block ?? []).flatMap(eachLine)];
}

export function skipBlock(statement: Statement, why: string, report: ImportReport): void {
  for (const line of eachLine(statement)) report.untranslated(line, why);
}

/**
 * A directive Vigil has no counterpart for, listed (with its block) with the table's reason; one
 * the table does not know is refused, so that a misspelt directive is never passed over.
 */
export function skipListed(
  line: Statement,
  reasons: Readonly<Record<string, string>>,
  context: string,
  report: ImportReport,
): void {
  const keyword = line.words[0] ?? "";
  const why = Object.hasOwn(reasons, keyword) ? reasons[keyword] : undefined;
  if (why === undefined) throw new ImportError(line, `unknown ${context} directive "${keyword}"`);
  skipBlock(line, why, report);
}

export function seconds(statement: Statement, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text) || value <= 0)
    throw new KeepalivedValueError(statement, `expected a number of seconds, got "${text ?? ""}"`);
  return Math.round(value * 1000);
}

export function wholeNumber(
  statement: Statement,
  text: string | undefined,
  min: number,
  max: number,
): number {
  const value = Number(text);
  if (text === undefined || !/^-?\d+$/.test(text) || value < min || value > max)
    throw new KeepalivedValueError(
      statement,
      `expected a whole number from ${min} to ${max}, got "${text ?? ""}"`,
    );
  return value;
}

class KeepalivedValueError extends ImportError {
  constructor(statement: Statement, message: string) {
    super(statement, `${statement.words[0]}: ${message}`);
  }
}

/**
 * keepalived runs a script as a command line; Vigil's checks and transition scripts run one
 * executable by its absolute path, with arguments of Vigil's own. A command that is one absolute
 * path carries over; anything else needs a small wrapper, whose path is a placeholder.
 */
export function executableOf(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  return words.length === 1 && words[0]!.startsWith("/") ? words[0] : undefined;
}

/**
 * A keepalived command line where Vigil runs one executable: the written file names a wrapper
 * to create (`path` in the resource document), and the report says what it must run.
 */
export function wrapperPlaceholder(
  report: ImportReport,
  path: ReadonlyArray<string | number>,
  command: string,
  at: Statement,
): void {
  report.placeholder({
    document: "resources",
    path,
    message: `write an executable here that runs: ${command} (Vigil runs one program, with arguments of its own)`,
    at,
  });
}
