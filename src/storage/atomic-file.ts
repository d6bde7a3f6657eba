import { open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Replaces `path` with `contents` so that a crash at any moment leaves either the old file or
 * the new one, never a torn mix: write a temporary sibling, fsync it, rename over the target,
 * fsync the directory so the rename itself is durable.
 */
export async function writeFileAtomic(path: string, contents: string, mode = 0o600): Promise<void> {
  const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  const file = await open(temporary, "w", mode);
  try {
    await file.writeFile(contents);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  const directory = await open(dirname(path), "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
