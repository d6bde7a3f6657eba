import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { removeTestDir } from "./remove-dir.js";
import { waitFor } from "./wait.js";

/**
 * For the describe block it is called in: a three-node cluster on loopback in a fresh directory,
 * no agent started (a cold start), stopped and removed after the block.
 */
export function coldStartCluster(prefix: string) {
  let dir: string;
  let cluster: LocalCluster;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
  });
  after(async () => {
    await cluster?.stopAll();
    await removeTestDir(dir);
  });
  return {
    cluster: () => cluster,
    dir: () => dir,
    coordination: async (name: string) => {
      const c = (await cluster.status(name)).coordination;
      if (c === null) throw new Error("no coordination status");
      return c;
    },
    /** Starts alpha and beta, gamma not, and waits until they see each other. */
    startTwoOfThree: async () => {
      await cluster.start("alpha");
      await cluster.start("beta");
      await waitFor("alpha and beta to see each other", async () =>
        (await cluster.status("alpha")).nodes.find((n) => n.name === "beta")?.state === "up"
          ? true
          : undefined,
      );
    },
  };
}
