/**
 * What a fence agent wrote, as one line a person can read in `vigil status`, the fence history
 * and the log. Pure.
 *
 * Debian's fence agents are noisy in ways that hide the reason: on Python 3.11 every
 * fence-agents program that imports `pipes` (fence_ipmilan, the iLO and iDRAC agents, ...) prints
 * a two-line `DeprecationWarning` on every run, the fencing library stamps each line with a date
 * and a level and repeats the error with a blank line after it, and adds "Please use '-h' for
 * usage", which is advice for someone typing the command. What is left is the agent's own words:
 * "Failed: You have to enter fence address".
 */

/** Long enough for an agent's error and its cause; one line of a terminal or two. */
export const AGENT_OUTPUT_MAX_CHARS = 300;

/** `/usr/sbin/fence_ipmilan:5: DeprecationWarning: 'pipes' is deprecated ...` */
const PYTHON_WARNING = /^\S.*:\d+: [A-Za-z]*Warning: /;
/** The fencing library's `2026-01-31 08:38:02,605 ERROR: ` (its logging format). */
const LOG_STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ (?:[A-Z]+: )?/;
/** fence_kdump's `[error]: ` and `[debug]: `. */
const BRACKETED_LEVEL = /^\[(error|warning|info|debug)\]:\s*/i;
const USAGE_ADVICE = /^Please use '-h' for usage$/;

/**
 * The agent's output as one line: Python warnings and tracebacks' frames dropped (the exception's
 * own line stays), date and level prefixes removed, debug lines and usage advice dropped, blank
 * and repeated lines dropped, the rest joined with "; " and cut at AGENT_OUTPUT_MAX_CHARS.
 * "" when nothing is left.
 */
export function cleanAgentOutput(text: string): string {
  const kept: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] ?? "";
    if (PYTHON_WARNING.test(raw)) {
      // Python shows the offending source line, indented, right after the warning.
      if (/^\s/.test(lines[index + 1] ?? "")) index += 1;
      continue;
    }
    if (raw.startsWith("Traceback (most recent call last)")) {
      // Frames are indented; the exception line after them is the one that says what happened.
      while (/^\s/.test(lines[index + 1] ?? "")) index += 1;
      continue;
    }
    const bracketed = BRACKETED_LEVEL.exec(raw.trim());
    if (bracketed?.[1]?.toLowerCase() === "debug") continue;
    const line = raw.trim().replace(LOG_STAMP, "").replace(BRACKETED_LEVEL, "").trim();
    if (line === "" || USAGE_ADVICE.test(line) || kept.includes(line)) continue;
    kept.push(line);
  }
  return truncate(kept.join("; "), AGENT_OUTPUT_MAX_CHARS);
}

/** `text` cut to `maxChars` characters, the cut marked with "…". */
export function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}
