import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.js";

export class StateDirError extends Error {
  override readonly name = "StateDirError";
}

/**
 * Every agent start gets an incarnation strictly greater than any before it on this node, so
 * peers can tell a restarted agent (whose resources are gone) from a late packet of the old one,
 * and the wire layer can refuse replays of old incarnations. The wall clock gives a good
 * starting value; the persisted counter protects against a clock that was set back.
 */
export async function nextIncarnation(stateDir: string, wallClockMs: number): Promise<number> {
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StateDirError(
      `cannot create state directory ${stateDir}: ${(error as Error).message}; set state_dir in the config or pass --state-dir`,
    );
  }
  const path = join(stateDir, "incarnation");
  let previous = 0;
  try {
    const text = (await readFile(path, "utf8")).trim();
    previous = Number(text);
    if (!Number.isSafeInteger(previous) || previous < 0) {
      throw new StateDirError(
        `${path} holds "${text.slice(0, 40)}", not an incarnation number; remove the file if the state directory was damaged`,
      );
    }
  } catch (error) {
    if (error instanceof StateDirError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new StateDirError(`cannot read ${path}: ${(error as Error).message}`);
    }
  }
  const incarnation = Math.max(Math.floor(wallClockMs), previous + 1);
  await writeFileAtomic(path, `${incarnation}\n`);
  return incarnation;
}
