import { readdirSync, readFileSync } from "node:fs";

/** The fields of /proc/PID/stat after the command, from field 3 (state) on. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The niceness of a process's main thread (field 19 of /proc/PID/stat). */
export function niceOf(pid: number): number {
  return Number(statFields(pid)[16]);
}

/** The niceness of the process's session scheduling group (/proc/PID/autogroup). */
export function autogroupNiceOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/autogroup`, "utf8");
  return Number(/nice (-?\d+)/.exec(line)?.[1]);
}

/** The processes whose parent is `pid`, with their command lines. */
export function childrenOf(pid: number): Array<{ pid: number; cmdline: string }> {
  const children: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[1]) !== pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      children.push({ pid: Number(entry), cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return children;
}
