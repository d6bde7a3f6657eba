import { ImportError, type ImportReport } from "../report.js";
import type { Statement } from "./parse.js";

/** The statement and everything in its block, for reporting a block as a whole. */
export function eachLine(statement: Statement): Statement[] {
  return [statement, ...(statement.block ?? []).flatMap(eachLine)];
}

export function skipBlock(statement: Statement, why: string, report: ImportReport): void {
  for (const line of eachLine(statement)) report.skip(line, why);
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
