import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";

/**
 * Where `program` would be run from: itself when it names a path, else the first executable file
 * of that name on `searchPath` (as execvp looks); undefined when there is none.
 */
export async function findProgram(
  program: string,
  searchPath: string = process.env.PATH ?? "",
): Promise<string | undefined> {
  const candidates = program.includes("/")
    ? [program]
    : searchPath
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // Not here, or not executable: the next candidate.
    }
  }
  return undefined;
}
