import { rm } from "node:fs/promises";

/**
 * Removes a test's working directory after its processes were told to stop. A process that is
 * still exiting (an agent writing its last log line, a guard's action, a resource agent killed a
 * moment ago) can add a file while the tree is being removed; rmdir then fails with ENOTEMPTY,
 * which Node retries with these options instead of failing the suite's teardown.
 */
export async function removeTestDir(dir: string | undefined): Promise<void> {
  if (dir === undefined) return;
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
