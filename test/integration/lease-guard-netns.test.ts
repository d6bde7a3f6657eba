/**
 * The node guard's last resort. An agent frozen with SIGSTOP can stop nothing; its guard kills it
 * and stops what it held itself (agent-death-netns.test.ts). Here the service will not stop (its
 * stop hangs), so the guard cannot finish before the lease ends, when the leader may start the
 * group elsewhere: it fences the host instead (its action, test/fixtures/fence/self_fence_lab,
 * powers the test host off from inside). The VIP and the service are never on two hosts at once.
 */
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { getPriority } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { type Lab, labTestOptions } from "../lab/index.js";
import { autogroupNiceOf, childrenOf, niceOf } from "../support/proc.js";
import { clientOutage, readEchoEvents, type TakeoverLab } from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["socat", "ss"]);
const SELF_FENCE = resolve("test/fixtures/fence/self_fence_lab");

describe("node guard across test hosts: a stop that cannot finish", options, () => {
  let lab: Lab;
  let t: TakeoverLab;
  let fenceLog: string;

  useTakeoverLab(
    { hosts: 3, links: 2, clients: 1 },
    (created) => {
      fenceLog = join(created.dir, "guard-fence.log");
      return { extraConfig: { watchdog: { action: `${SELF_FENCE} ${fenceLog}` } } };
    },
    (created) => {
      ({ lab, t } = created);
    },
  );

  test("the agent and its guard run at scheduling.nice (default -10), their session groups too; the service at the niceness the agent started with", async () => {
    const active = await t.waitForGroup();
    const agent = t.cluster.agent(active);
    assert.ok(agent, `an agent runs on ${t.name(active)}`);
    const guard = childrenOf(agent.pid).find((child) => child.cmdline.includes("guard-main"));
    assert.ok(guard, "the agent's node guard runs");
    for (const pid of [agent.pid, guard.pid]) {
      assert.equal(niceOf(pid), -10);
      assert.equal(autogroupNiceOf(pid), -10);
    }
    const service = Number(
      await readFile(join(lab.dir, `service-echo.${t.name(active)}.pid`), "utf8"),
    );
    assert.equal(niceOf(service), getPriority());
    assert.equal(autogroupNiceOf(service), 0);
  });

  test("an agent frozen with SIGSTOP while its service will not stop: its guard fences the host before the group starts elsewhere", async () => {
    const hang = join(lab.dir, "echo-stop-hangs");
    const appliedAt = Date.now();
    await t.apply({ echoStopHangFile: hang });
    // The changed definition restarts the service where it runs: wait for that restart, so the
    // stop that hangs is the guard's, not the restart's.
    await waitFor("the service to restart with its new definition", async () =>
      (await readEchoEvents(lab.dir)).some((e) => e.what === "start" && e.atMs > appliedAt)
        ? true
        : undefined,
    );
    const active = await t.waitForGroup();
    const old = t.name(active);
    const agent = t.cluster.agent(active);
    assert.ok(agent, `an agent runs on ${old}`);
    await writeFile(hang, "");
    const frozenAt = Date.now();
    agent.kill("SIGSTOP");
    const fencedAtMs = await waitFor("the node guard to fence the host", async () => {
      const lines = (await readFile(fenceLog, "utf8").catch(() => "")).split("\n");
      const line = lines.find((l) => l.endsWith(` self-fence ${lab.host(active).ns}`));
      return line === undefined ? undefined : Number(line.split(" ")[0]);
    });
    assert.ok(fencedAtMs >= frozenAt);
    // From the moment its links went down, whatever the host still has configured is unreachable.
    t.powerOffs.set(old, [...(t.powerOffs.get(old) ?? []), fencedAtMs]);
    t.watch.markOff(active, fencedAtMs);
    // Other hosts' stops must work again.
    await rm(hang, { force: true });
    const next = await t.waitForGroup("the group to run on another host", (n) => n !== old);
    await t.prober!.waitForAnswer(
      `an answer from ${t.name(next)}`,
      frozenAt,
      (a) => a === t.name(next),
    );
    const outage = clientOutage(await t.prober!.probes(), frozenAt);
    assert.ok(outage.answeredBy.includes(t.name(next)));
    await t.assertSafe("agent frozen, its service unstoppable");
  });
});
