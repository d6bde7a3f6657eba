/**
 * A hung agent must not keep resources beyond its lease. The agent on the host that runs the
 * service group is frozen with SIGSTOP: it can stop nothing, and after its lease the leader
 * starts the group elsewhere. The lease guard (watchdog.lease_guard), a separate process the
 * agent feeds, fences the host when the lease ends first: here its action powers the test host
 * off from inside (test/fixtures/fence/self_fence_lab). The VIP and the service are never on two
 * hosts at once.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { type Lab, labTestOptions } from "../lab/index.js";
import { clientOutage, type TakeoverLab } from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["socat", "ss"]);
const SELF_FENCE = resolve("test/fixtures/fence/self_fence_lab");

describe("lease guard across test hosts", options, () => {
  let lab: Lab;
  let t: TakeoverLab;
  let fenceLog: string;

  useTakeoverLab(
    { hosts: 3, links: 2, clients: 1 },
    (created) => {
      fenceLog = join(created.dir, "self-fence.log");
      return {
        extraConfig: { watchdog: { lease_guard: true, action: `${SELF_FENCE} ${fenceLog}` } },
      };
    },
    (created) => {
      ({ lab, t } = created);
    },
  );

  test("an agent frozen with SIGSTOP: its guard fences the host before the group starts elsewhere", async () => {
    const active = await t.waitForGroup();
    const old = t.name(active);
    const agent = t.cluster.agent(active);
    assert.ok(agent, `an agent runs on ${old}`);
    const frozenAt = Date.now();
    agent.kill("SIGSTOP");
    const fencedAtMs = await waitFor("the lease guard to fence the host", async () => {
      const lines = (await readFile(fenceLog, "utf8").catch(() => "")).split("\n");
      const line = lines.find((l) => l.endsWith(` self-fence ${lab.host(active).ns}`));
      return line === undefined ? undefined : Number(line.split(" ")[0]);
    });
    assert.ok(fencedAtMs >= frozenAt);
    // From the moment its links went down, whatever the host still has configured is unreachable.
    t.powerOffs.set(old, [...(t.powerOffs.get(old) ?? []), fencedAtMs]);
    t.watch.markOff(active, fencedAtMs);
    const next = await t.waitForGroup("the group to run on another host", (n) => n !== old);
    await t.prober!.waitForAnswer(
      `an answer from ${t.name(next)}`,
      frozenAt,
      (a) => a === t.name(next),
    );
    const outage = clientOutage(await t.prober!.probes(), frozenAt);
    assert.ok(outage.answeredBy.includes(t.name(next)));
    await t.assertSafe("agent frozen");
  });
});
