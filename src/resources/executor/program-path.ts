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
  // Every candidate at once: one after another, each check waits its turn on a busy event loop
  // (a takeover's), and a start that looks for arping took 50-100 ms of a 12-entry PATH.
  const found = await Promise.all(candidates.map(executableFile));
  return found.find((candidate) => candidate !== undefined);
}

async function executableFile(candidate: string): Promise<string | undefined> {
  try {
    await access(candidate, constants.X_OK);
    return (await stat(candidate)).isFile() ? candidate : undefined;
  } catch {
    return undefined; // not here, or not executable
  }
}
