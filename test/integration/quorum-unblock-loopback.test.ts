import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { controlPost } from "../../src/control/client.js";
import { coldStartCluster } from "../support/cold-start.js";
import { vigilCli } from "../support/vigil-cli.js";
import { waitFor } from "../support/wait.js";

/** A node lost for good at a cold start: the operator lets the others go on (`vigil quorum unblock`). */
describe("vigil quorum unblock", () => {
  const fixture = coldStartCluster("vigil-unblock-");
  const { coordination } = fixture;
  const unblock = async (name: string) => {
    const outcome = await vigilCli([
      "quorum",
      "unblock",
      "--socket",
      fixture.cluster().socketPath(name),
    ]);
    assert.equal(outcome.code, 0, outcome.stderr);
    return outcome.stdout;
  };

  test("two of three nodes, the third never started: unblocked, they elect a leader", async () => {
    await fixture.startTwoOfThree();
    for (const name of ["alpha", "beta"]) {
      assert.equal((await coordination(name)).waitingForAll, true, `${name} waits for gamma`);
    }
    const status = await vigilCli(["status", "--socket", fixture.cluster().socketPath("alpha")]);
    assert.match(
      status.stdout,
      /waiting for gamma to be seen once \(wait_for_all; `vigil quorum unblock`/,
    );
    assert.match(await unblock("alpha"), /no longer waits for gamma/);
    const leader = await waitFor("a leader among alpha and beta", async () => {
      const views = await Promise.all(["alpha", "beta"].map(coordination));
      const leading = views.find((v) => v.role === "leader" && v.votesPresent >= v.votesNeeded);
      return leading === undefined ? undefined : leading.id;
    });
    assert.equal(leader, 1, "only alpha may stand for election");
    assert.match(await unblock("alpha"), /was not waiting for any node/);
    await assert.rejects(
      controlPost(fixture.cluster().socketPath("beta"), "/v1/quorum/unblock", { force: true }),
      /bad quorum unblock request: .*force/,
    );
  });
});
