import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** Suffix of the temporary sibling a replacement is written to before its rename. */
export const TEMPORARY_SUFFIX = ".tmp";

/**
 * Replaces `dir/name` with `bytes` so that a crash leaves the old file or the new one, never a
 * mix: write `name.tmp`, fsync it, rename it over the target, fsync the directory so the rename
 * itself survives. The temporary name is fixed, so a crash leaves at most one leftover per file
 * for `removeLeftoverTemporaries` to find; callers must not replace the same file concurrently.
 */
export async function replaceFileDurably(dir: string, name: string, bytes: Buffer): Promise<void> {
  const temporary = join(dir, name + TEMPORARY_SUFFIX);
  const file = await open(temporary, "w", 0o600);
  try {
    await writeFully(file, bytes, 0);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, join(dir, name));
  await syncDirectory(dir);
}

export async function syncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Writes all of `bytes` at `position`, looping over short writes. */
export async function writeFully(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(
      bytes,
      written,
      bytes.length - written,
      position + written,
    );
    if (bytesWritten === 0) throw new Error("write made no progress");
    written += bytesWritten;
  }
}

/**
 * Removes temporaries a crash left behind before their rename; the targets still hold the
 * previous version, so the temporaries are simply unfinished work. Returns the names removed.
 */
export async function removeLeftoverTemporaries(
  dir: string,
  names: readonly string[],
): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name + TEMPORARY_SUFFIX);
    try {
      await rm(path);
      removed.push(name + TEMPORARY_SUFFIX);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  if (removed.length > 0) await syncDirectory(dir);
  return removed;
}
