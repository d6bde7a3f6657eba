/**
 * The warnings and errors the lab's processes logged (pino JSON lines at level warn or above),
 * newest last: what a failed chaos assertion prints, since CI keeps no lab directory to read.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const WARN_LEVEL = 40;

export async function labWarnings(dir: string, limit = 250): Promise<string[]> {
  const files = (await readdir(dir).catch(() => [])).filter((name) => name.endsWith(".log"));
  const found: Array<{ atMs: number; line: string }> = [];
  for (const file of files) {
    const text = await readFile(join(dir, file), "utf8").catch(() => "");
    const label = file.replace(/\.(out|err)\.log$/, "");
    for (const raw of text.split("\n")) {
      if (!raw.startsWith("{")) continue;
      let entry: { level?: unknown; time?: unknown; msg?: unknown; resource?: unknown };
      try {
        entry = JSON.parse(raw);
      } catch {
        continue;
      }
      if (typeof entry.level !== "number" || entry.level < WARN_LEVEL) continue;
      const atMs =
        typeof entry.time === "number"
          ? entry.time
          : typeof entry.time === "string"
            ? Date.parse(entry.time) || 0
            : 0;
      const resource = typeof entry.resource === "string" ? ` [${entry.resource}]` : "";
      found.push({
        atMs,
        line: `${new Date(atMs).toISOString()} ${label}${resource}: ${String(entry.msg ?? raw)}`,
      });
    }
  }
  return found
    .sort((a, b) => a.atMs - b.atMs)
    .slice(-limit)
    .map((entry) => entry.line);
}
