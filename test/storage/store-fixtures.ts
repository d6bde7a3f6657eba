import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogEntry, Snapshot } from "../../src/consensus/types.js";

/** Runs `body` with a fresh directory under the OS temp dir, removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-raft-store-"));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function commandEntry(index: number, term = 0): LogEntry {
  return { index, term, body: { kind: "command", payload: `{"op":"set","key":"k${index}"}` } };
}

export function entries(from: number, to: number, term = 0): LogEntry[] {
  const result: LogEntry[] = [];
  for (let index = from; index <= to; index++) result.push(commandEntry(index, term));
  return result;
}

export function snapshotAt(lastIncludedIndex: number, lastIncludedTerm = 0): Snapshot {
  return {
    meta: {
      lastIncludedIndex,
      lastIncludedTerm,
      membership: { members: [{ id: 1, votes: 1, witness: false }] },
    },
    data: JSON.stringify({ appliedThrough: lastIncludedIndex }),
  };
}
