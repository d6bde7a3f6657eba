/**
 * The agent alone dies or hangs while its host lives: its VIP and service must not outlive it
 * while another host takes them over. In the default configuration the node guard (a process
 * beside the agent, guard.ts) sees the agent go — at once when it dies (SIGKILL, as the kernel's
 * OOM killer does; SIGABRT, as V8 does at its heap limit), after half the follower lease when it
 * hangs (SIGSTOP) — kills it, and stops what it held before the leader may start it elsewhere;
 * only if that cannot finish within the lease does it fence the host (allowed, and reported).
 * Each fault is tried with the group on the Raft leader and on a follower. The VIP's presence on
 * every host is followed by the kernel's own notifications (`ip monitor address`, no sampling
 * gap), the service's by its start/stop log; neither may ever be on two hosts at once, and the
 * guard must never have needed its self-fence.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Lab, labTestOptions } from "../lab/index.js";
import { clientOutage, nowMs, type TakeoverLab } from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["socat", "ss"]);

type Fault = "SIGKILL" | "SIGABRT" | "SIGSTOP";

describe(
  "an agent that dies or hangs alone, its host alive (default configuration)",
  options,
  () => {
    let lab: Lab;
    let t: TakeoverLab;

    useTakeoverLab(
      { hosts: 3, links: 2, clients: 1 },
      () => ({}),
      (created) => {
        ({ lab, t } = created);
      },
    );

    /**
     * Puts the group on the leader or on a follower, applies the fault to that host's agent alone,
     * and checks: the group runs elsewhere, the client is served by it, the old host holds neither
     * the VIP nor the service (or it was fenced), nothing was ever on two hosts. Then starts the
     * agent again, for the next case.
     */
    async function agentFault(fault: Fault, holder: "leader" | "follower"): Promise<void> {
      const leader = await t.waitForLeader();
      const target = holder === "leader" ? leader : t.hosts.find((h) => h !== leader)!;
      await t.moveGroup(target);
      const old = t.name(target);
      const agent = t.cluster.agent(target);
      assert.ok(agent, `an agent runs on ${old}`);
      const faultAt = nowMs();
      agent.kill(fault);
      if (fault !== "SIGSTOP") await agent.exited;

      const next = await t.waitForGroup(
        `the group to run on another host after ${fault} of ${old}'s agent`,
        (n) => n !== old,
      );
      await t.prober!.waitForAnswer(
        `an answer from ${t.name(next)}`,
        faultAt,
        (a) => a === t.name(next),
      );
      // The paused agent was killed by its guard: SIGKILL ends a stopped process too.
      await waitFor(`${old}'s agent to be gone`, () => (agent.running ? undefined : true));
      // The guard stops what the agent held; only if that cannot finish within the lease does it
      // fence the host (the lab's self-fence powers it off: from then on it reaches no one).
      const fencedAtMs = await waitFor(
        `the VIP to be gone from ${old}, or ${old} fenced`,
        async () => {
          const fence = (await t.cluster.selfFences()).find(
            (f) => f.ns === lab.host(target).ns && f.atMs >= faultAt,
          );
          if (fence !== undefined) return fence.atMs;
          return t.watch.holders().includes(old) ? undefined : 0;
        },
      );
      if (fencedAtMs > 0) {
        t.powerOffs.set(old, [...(t.powerOffs.get(old) ?? []), fencedAtMs]);
        t.watch.markOff(target, fencedAtMs);
      }
      const outage = clientOutage(await t.prober!.probes(), faultAt);
      console.log(
        `${fault} of the ${holder}'s agent (${old}): the client's longest gap ${outage.outageMs.toFixed(0)} ms, served by ${t.name(next)}; ${fencedAtMs > 0 ? "the guard could not stop in time and fenced the host" : "released by its guard"}`,
      );
      await t.assertSafe(`${fault} of the ${holder}'s agent`);
      if (fencedAtMs > 0) await t.powerOn(target, { startAgent: false });
      await t.startAgent(target);
      await t.waitForLeader();
    }

    for (const holder of ["leader", "follower"] as const) {
      test(`SIGKILL of the ${holder}'s agent (the OOM killer's signal)`, () =>
        agentFault("SIGKILL", holder));
      test(`SIGABRT of the ${holder}'s agent (V8 at its heap limit)`, () =>
        agentFault("SIGABRT", holder));
      test(`SIGSTOP of the ${holder}'s agent (a hang)`, () => agentFault("SIGSTOP", holder));
    }
  },
);
