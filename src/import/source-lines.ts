import type { SourceLine } from "./report.js";

/** A line of a configuration file with its comment removed and its words split. */
export interface WordLine extends SourceLine {
  words: string[];
}

/**
 * Heartbeat's files (ha.cf, haresources, authkeys): one directive a line, `#` to the end of the
 * line a comment, a trailing `\` continuing it on the next line (reported at its first line).
 */
export function wordLines(file: string, text: string): WordLine[] {
  const lines = text.split(/\r?\n/);
  const result: WordLine[] = [];
  for (let index = 0; index < lines.length; index++) {
    const first = index;
    let joined = stripComment(lines[index]!);
    while (joined.trimEnd().endsWith("\\") && index + 1 < lines.length) {
      joined = `${joined.trimEnd().slice(0, -1)} ${stripComment(lines[++index]!)}`;
    }
    const words = joined.trim().split(/\s+/).filter(Boolean);
    if (words.length > 0) result.push({ file, line: first + 1, text: lines[first]!.trim(), words });
  }
  return result;
}

function stripComment(line: string): string {
  const at = line.search(/(^|\s)#/);
  return at < 0 ? line : line.slice(0, at);
}

/** Durations the way Heartbeat reads them: seconds, decimals allowed, or with `ms`/`s`. */
export function heartbeatMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]);
  return Math.round(match[2] === "ms" ? value : value * 1000);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}
