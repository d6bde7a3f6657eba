/**
 * Takeover on test hosts (network namespaces): three agents on two links, a client on link 0
 * asking the virtual IP who serves it every 5 ms, and the service group [VIP, echo service].
 * Each scenario asserts outcomes (where the service runs, who answers the client, fail counts)
 * and that neither the VIP nor the service was ever on two hosts at once. Durations are the
 * benchmark's business (npm run bench:failover), not asserted here.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLab, type Lab, labTestOptions } from "../lab/index.js";
import {
  anyState,
  clientOutage,
  IP_RESOURCE,
  ipaddr2Available,
  nowMs,
  readEchoEvents,
  TakeoverLab,
} from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["socat", "ss"]);
const LAB = { hosts: 3, links: 2, clients: 1 } as const;

/** The answers the client got after `sinceMs`, the old owner's late ones left out. */
async function answersAfter(t: TakeoverLab, sinceMs: number, old?: string): Promise<string[]> {
  const outage = clientOutage(await t.prober!.probes(), sinceMs);
  return outage.answeredBy.filter((name) => name !== old);
}

describe("takeover across test hosts", options, () => {
  let lab: Lab;
  let t: TakeoverLab;

  useTakeoverLab(
    LAB,
    () => ({}),
    (created) => {
      ({ lab, t } = created);
    },
  );

  test("power-off of the active host: the service comes back on another host", async () => {
    const active = await t.waitForGroup();
    const old = t.name(active);
    const offAt = await t.powerOff(active);
    const next = await t.waitForGroup("the group to run on another host", (n) => n !== old);
    await t.prober!.waitForAnswer(
      `an answer from ${t.name(next)}`,
      offAt,
      (a) => a === t.name(next),
    );
    assert.deepEqual(await answersAfter(t, offAt, old), [t.name(next)]);
    await t.assertSafe("power-off");

    // Back from the dead (volatile state gone, agent restarted): the service stays where it is.
    await t.powerOn(active);
    assert.equal(await t.waitForGroup(), next);
    assert.deepEqual(await answersAfter(t, offAt, old), [t.name(next)]);
    await t.assertSafe("power-off, after power-on");
  });

  test("power-off of the Raft leader while the service runs on another host: the service never stops", async () => {
    const leader = await t.waitForLeader();
    const other = t.hosts.find((h) => h !== leader && t.cluster.agent(h) !== undefined)!;
    await t.moveGroup(other);
    const before = (await readEchoEvents(lab.dir)).length;
    const offAt = await t.powerOff(leader);
    try {
      // A new leader is elected; the followers' leases outlast the election, so nothing stops.
      await waitFor("a new leader", async () => {
        const next = await t.leader(other).catch(() => undefined);
        return next !== undefined && next !== leader ? true : undefined;
      });
      // Watch for a while longer than a follower lease: a lapse would stop the service.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.equal(await t.waitForGroup(), other);
      const events = (await readEchoEvents(lab.dir)).slice(before);
      assert.deepEqual(events, [], `the service was stopped or started: ${JSON.stringify(events)}`);
      assert.deepEqual(await answersAfter(t, offAt), [t.name(other)]);
      await t.assertSafe("leader power-off");
    } finally {
      await t.powerOn(leader);
      await t.waitProbed(leader);
    }
  });

  test("graceful stop of the active host hands the service over", async () => {
    const active = await t.waitForGroup();
    const old = t.name(active);
    const stoppedAt = await t.stopAgent(active);
    // The agent exits only once its resources are gone: the service already runs elsewhere or
    // is being started there.
    const next = await t.waitForGroup("the group to run on another host", (n) => n !== old);
    await t.prober!.waitForAnswer(
      `an answer from ${t.name(next)}`,
      stoppedAt,
      (a) => a === t.name(next),
    );
    assert.deepEqual(await answersAfter(t, stoppedAt, old), [t.name(next)]);
    const state = await anyState(t.cluster);
    for (const cells of Object.values(state.resources)) assert.equal(cells[old], undefined);
    await t.assertSafe("graceful stop");
    await t.startAgent(active);
    assert.equal(await t.waitForGroup(), next);
  });

  test("VIP deleted by hand: the monitor fails and the group recovers in place", async () => {
    const active = await t.waitForGroup();
    const node = t.name(active);
    const before = (await anyState(t.cluster)).failCounts[IP_RESOURCE]?.[node]?.count ?? 0;
    const deletedAt = await t.deleteVip(active);
    const counted = await waitFor("the VIP's fail count to be recorded", async () => {
      const count = (await anyState(t.cluster)).failCounts[IP_RESOURCE]?.[node]?.count ?? 0;
      return count > before ? count : undefined;
    });
    // One failure, one count. (Every command a follower forwards to the leader must commit once.)
    const history = (await anyState(t.cluster)).history.map((h) => `${h.version} ${h.summary}`);
    const leader = await t.leader(active);
    assert.equal(
      counted,
      before + 1,
      `one deleted VIP counted ${counted - before} times on ${node} (Raft leader: ${leader === undefined ? "none" : t.name(leader)}); history: ${history.slice(-12).join("; ")}`,
    );
    assert.equal(await t.waitForGroup("the group to run again on the same host"), active);
    // Asked once the failure was recorded (the VIP was surely gone then): answered by the same host.
    await t.prober!.waitForAnswer(`an answer from ${node} again`, nowMs(), (a) => a === node);
    const outage = clientOutage(await t.prober!.probes(), deletedAt);
    assert.ok(outage.recovered);
    assert.deepEqual(outage.answeredBy, [node]);
    assert.equal((await anyState(t.cluster)).failCounts[IP_RESOURCE]?.[node]?.count, before + 1);
    await waitFor("the VIP watchers to see it back", () =>
      t.watch.holders().join() === node ? true : undefined,
    );
    await t.assertSafe("VIP deleted by hand");
  });

  test("the active host's client-facing link cut alone: the service moves to a host that still has it; cut everywhere: nothing moves", async (context) => {
    const active = await t.waitForGroup();
    const old = t.name(active);
    const failCountsBefore = (await anyState(t.cluster)).failCounts;
    const cutAt = nowMs();
    await lab.cutLink(active, 0);
    try {
      // Heartbeats still arrive on link 1: the host is up, and only the link tells.
      const next = await t.waitForGroup("the group to leave the cut host", (n) => n !== old);
      await t.prober!.waitForAnswer(
        `an answer from ${t.name(next)}`,
        cutAt,
        (a) => a === t!.name(next),
      );
      const state = await anyState(t.cluster);
      assert.deepEqual(state.failCounts, failCountsBefore, "moved for its link, not for a failure");
      assert.equal(state.agents[old]?.attributes?.["vigil-link-ring0"], "0");
      const outage = clientOutage(await t.prober!.probes(), cutAt);
      context.diagnostic(
        `client without service for ${outage.outageMs.toFixed(0)} ms after the cut`,
      );
    } finally {
      await lab.healLink(active, 0);
    }
    await t.assertSafe("client link cut");

    // A switch, not a host: every host loses link 0, and the service stays where it is.
    const holder = await t.waitForGroup();
    await waitFor("every host to hear its peers on link 0 again", async () => {
      const state = await anyState(t.cluster);
      return t.hosts.every((h) => state.agents[t.name(h)]?.attributes?.["vigil-link-ring0"] === "2")
        ? true
        : undefined;
    });
    for (const host of t.hosts) await lab.cutLink(host, 0);
    try {
      await waitFor("every host to say it hears nobody on link 0", async () => {
        const state = await anyState(t.cluster);
        return t.hosts.every(
          (h) => state.agents[t.name(h)]?.attributes?.["vigil-link-ring0"] === "0",
        )
          ? true
          : undefined;
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(await t.waitForGroup(), holder);
      const state = await anyState(t.cluster);
      for (const member of [IP_RESOURCE])
        assert.deepEqual(Object.keys(state.resources[member] ?? {}), [t.name(holder)]);
    } finally {
      for (const host of t.hosts) await lab.healLink(host, 0);
    }
    await t.assertSafe("client link cut everywhere");
  });

  test("auto_failback: the group leaves its preferred host when it dies and returns after", async () => {
    const preferred = 0;
    const h1 = t.name(preferred);
    await t.apply({ autoFailback: true, prefer: { node: h1, score: 100 } });
    await t.waitForGroup(`the group to move to ${h1}`, (n) => n === h1);
    const onH1Since = Date.now();
    await t.prober!.waitForAnswer(`an answer from ${h1}`, onH1Since, (a) => a === h1);
    await t.assertSafe("auto_failback, move to the preferred host");

    const offAt = await t.powerOff(preferred);
    const other = await t.waitForGroup("the group to leave the dead host", (n) => n !== h1);
    await t.prober!.waitForAnswer(
      `an answer from ${t.name(other)}`,
      offAt,
      (a) => a === t.name(other),
    );
    await t.assertSafe("auto_failback, power-off of the preferred host");

    const backAt = Date.now();
    await t.powerOn(preferred);
    await t.waitForGroup(`the group to return to ${h1}`, (n) => n === h1);
    await t.prober!.waitForAnswer(`an answer from ${h1} again`, backAt, (a) => a === h1);
    assert.deepEqual(await answersAfter(t, offAt, h1), [t.name(other)]);
    assert.equal(
      clientOutage(await t.prober!.probes(), backAt).answeredBy.at(-1),
      h1,
      "the client ends up served by the preferred host",
    );
    await t.assertSafe("auto_failback, return to the preferred host");
  });

  test("VIP deleted by hand with a 10-minute monitor: the kernel's notice has it monitored, and it recovers in place at once", async () => {
    // No monitor would look for ten minutes: only the address watch (ip monitor) can find it.
    await t.apply({ monitorIntervalMs: 600_000 });
    const active = await t.waitForGroup();
    const node = t.name(active);
    await waitFor("the VIP's copy to run with the new monitor", async () => {
      const state = await anyState(t.cluster);
      return state.resources[IP_RESOURCE]?.[node]?.active === "started" ? true : undefined;
    });
    const before = (await anyState(t.cluster)).failCounts[IP_RESOURCE]?.[node]?.count ?? 0;
    const deletedAt = await t.deleteVip(active);
    await waitFor("the VIP's failure to be recorded", async () => {
      const count = (await anyState(t.cluster)).failCounts[IP_RESOURCE]?.[node]?.count ?? 0;
      return count > before ? true : undefined;
    });
    assert.equal(await t.waitForGroup("the group to run again on the same host"), active);
    await t.prober!.waitForAnswer(`an answer from ${node} again`, nowMs(), (a) => a === node);
    assert.deepEqual(clientOutage(await t.prober!.probes(), deletedAt).answeredBy, [node]);
    await waitFor("the VIP watchers to see it back", () =>
      t.watch.holders().join() === node ? true : undefined,
    );
    await t.assertSafe("VIP deleted by hand, 10-minute monitor");
  });
});

const ipaddr2Options = ipaddr2Available()
  ? options
  : {
      skip: "ocf:heartbeat:IPaddr2 is not installed (/usr/lib/ocf/resource.d/heartbeat/IPaddr2; apt-get install resource-agents)",
    };

describe("takeover with ocf:heartbeat:IPaddr2 as the VIP", ipaddr2Options, () => {
  test("power-off, then graceful stop, of the active host", async () => {
    const lab = await createLab(LAB);
    let t: TakeoverLab | undefined;
    try {
      t = await TakeoverLab.create(lab, { vipAgent: "IPaddr2" });
      await t.apply();
      const first = await t.waitForGroup();
      await t.startProber();

      const offAt = await t.powerOff(first);
      const second = await t.waitForGroup(
        "the group to run on another host",
        (n) => n !== t!.name(first),
      );
      await t.prober!.waitForAnswer(
        `an answer from ${t.name(second)}`,
        offAt,
        (a) => a === t!.name(second),
      );
      assert.deepEqual(await answersAfter(t, offAt, t.name(first)), [t.name(second)]);
      await t.assertSafe("IPaddr2 power-off");
      await t.powerOn(first);

      const stoppedAt = await t.stopAgent(second);
      const third = await t.waitForGroup(
        "the group to run on a third host",
        (n) => n !== t!.name(second),
      );
      await t.prober!.waitForAnswer(
        `an answer from ${t.name(third)}`,
        stoppedAt,
        (a) => a === t!.name(third),
      );
      assert.deepEqual(await answersAfter(t, stoppedAt, t.name(second)), [t.name(third)]);
      await t.assertSafe("IPaddr2 graceful stop");
    } finally {
      await t?.close().catch(() => undefined);
      await lab.teardown();
    }
  });
});
