/**
 * Two-node mode on test hosts (network namespaces): two agents, no witness, two links, the
 * service group [VIP, echo service], a client probing the VIP, and the lab fence device, whose
 * agent powers a test host off for real. h1 has a fence delay, so after a partition h2 is shot
 * first. Each scenario asserts outcomes — who was fenced, where the group runs, what status says —
 * and that neither the VIP nor the service was ever on two hosts at once; never durations.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Lab, labTestOptions } from "../lab/index.js";
import {
  describeHistory,
  fenceCalls,
  fencingConfig,
  powersOff,
  recordFence,
} from "../support/lab-fencing.js";
import { anyState, nowMs, readEchoEvents, type TakeoverLab } from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["socat", "ss"]);
const H1 = 0;
const H2 = 1;
/** h1 is fenced only after this wait: it wins a fence race. */
const H1_FENCE_DELAY_MS = 3_000;

describe("two-node mode: two hosts, no witness, fencing", options, () => {
  let lab: Lab;
  let t: TakeoverLab;
  let log: string;

  useTakeoverLab(
    { hosts: 2, links: 2, clients: 1 },
    (created) => {
      log = join(created.dir, "fence-lab.log");
      return { extraConfig: fencingConfig(created, log, {}, { h1: H1_FENCE_DELAY_MS }) };
    },
    (created) => {
      ({ lab, t } = created);
    },
  );

  /** What `vigil status` says about two-node mode on a running host. */
  async function twoNodeOf(host: number) {
    const status = await t.cluster.status(host);
    const twoNode = status.coordination?.twoNode;
    assert.ok(twoNode !== undefined, `${t.name(host)} reports two-node mode`);
    return twoNode;
  }

  /** Waits for a successful fence of `host` by fence_lab after `sinceMs`; returns when it was. */
  async function waitForFence(host: number, sinceMs: number): Promise<number> {
    const plug = lab.host(host).ns;
    const call = await waitFor(
      `${t.name(host)} (${plug}) to be fenced`,
      async () =>
        (await fenceCalls(log)).find(
          (c) => c.plug === plug && powersOff(c) && c.exit === 0 && c.atMs >= sinceMs,
        ),
      { timeoutMs: 30_000 },
    );
    return call.atMs;
  }

  async function powerBackOn(host: number): Promise<void> {
    await lab.healAll(host);
    await t.powerOn(host);
    await waitFor(`${t.name(host)} to catch up with its peer`, async () =>
      (await twoNodeOf(host)).caughtUp ? true : undefined,
    );
    const other = host === H1 ? H2 : H1;
    await waitFor(`${t.name(other)} to stop standing in for ${t.name(host)}`, async () =>
      (await twoNodeOf(other)).standIns.length === 0 ? true : undefined,
    );
  }

  test("both nodes start caught up; a lost peer's group runs on the survivor after a fence", async () => {
    for (const host of [H1, H2])
      assert.deepEqual(await twoNodeOf(host), { caughtUp: true, standIns: [] });
    const active = await t.waitForGroup();
    const survivor = active === H1 ? H2 : H1;
    const old = t.name(active);
    const offAt = await t.powerOff(active);

    const fencedAt = await waitForFence(active, offAt);
    const next = await t.waitForGroup("the group to run on the survivor", (n) => n !== old);
    assert.equal(next, survivor);
    const history = (await anyState(t.cluster)).fenceHistory.filter((e) => e.node === old);
    assert.equal(history.filter((e) => e.ok).length, 1, describeHistory(history));
    assert.equal(history[history.length - 1]!.by, `policy@${t.name(survivor)}`);
    const starts = (await readEchoEvents(lab.dir)).filter(
      (e) => e.what === "start" && e.node === t.name(survivor) && e.atMs >= offAt,
    );
    assert.ok(starts.length > 0, "the service started on the survivor");
    for (const start of starts) assert.ok(start.atMs >= fencedAt, "only after the fence");
    const status = await t.cluster.status(survivor);
    assert.equal(status.coordination?.role, "leader");
    assert.deepEqual(status.coordination?.twoNode?.standIns, [active + 1]);
    await t.assertSafe("power-off of the active host");

    await powerBackOn(active);
    assert.equal(await t.waitForGroup(), survivor, "the group stays where it is");
    await t.assertSafe("power-off, after power-on");
  });

  test("the Raft leader is powered off while the group runs on the other: it keeps running", async () => {
    const leader = await t.waitForLeader();
    const other = leader === H1 ? H2 : H1;
    if ((await t.waitForGroup()) !== other) await t.moveGroup(other);
    const offAt = await t.powerOff(leader);

    await waitForFence(leader, offAt);
    await waitFor(`${t.name(other)} to lead alone`, async () => {
      const status = await t.cluster.status(other);
      return status.coordination?.role === "leader" &&
        status.coordination.twoNode?.standIns.includes(leader + 1) === true
        ? true
        : undefined;
    });
    // The survivor froze its resources while it fenced (two-node mode's default policy), so
    // the service never stopped there.
    const stops = (await readEchoEvents(lab.dir)).filter(
      (e) => e.what === "stop" && e.node === t.name(other) && e.atMs >= offAt,
    );
    assert.deepEqual(stops, [], "the service was not stopped on the survivor");
    assert.equal(await t.waitForGroup(), other);
    // It commits alone: an operator's change goes through.
    await t.moveGroup(other);
    await t.assertSafe("power-off of the leader");
    await powerBackOn(leader);
    await t.assertSafe("power-off of the leader, after power-on");
  });

  test("a partition: both fence, the delayed node (h1) wins, the group ends on h1", async () => {
    const since = nowMs();
    await lab.cutAll(H1);
    const fencedAt = await waitForFence(H2, since);
    recordFence(t, H2, fencedAt);
    await waitFor("the agent on h2 to be gone", () =>
      t.cluster.agent(H2) === undefined ? true : undefined,
    );
    await t.waitForGroup("the group to run on h1", (n) => n === "h1");
    // h2 waited h1's fence delay and was shot before it ended: h1 was never fenced.
    const h1Fences = (await fenceCalls(log)).filter(
      (c) => c.plug === lab.host(H1).ns && powersOff(c) && c.atMs >= since,
    );
    assert.deepEqual(h1Fences, [], "h1 was not fenced");
    await lab.healAll(H1);
    await t.assertSafe("partition");
    await powerBackOn(H2);
    await t.assertSafe("partition, after power-on");
  });

  test("a graceful stop hands the group over and the other goes on alone, unfenced", async () => {
    const active = await t.waitForGroup();
    const other = active === H1 ? H2 : H1;
    const fencesBefore = (await anyState(t.cluster)).fenceHistory.length;
    await t.stopAgent(active);
    await t.waitForGroup("the group to move to the other host", (n) => n === t.name(other));
    await waitFor(`${t.name(other)} to go on alone`, async () => {
      const status = await t.cluster.status(other);
      return status.coordination?.role === "leader" &&
        status.coordination.twoNode?.standIns.includes(active + 1) === true
        ? true
        : undefined;
    });
    // It commits alone: the operator can still move things around.
    await t.moveGroup(other);
    const state = await anyState(t.cluster);
    assert.equal(state.fenceHistory.length, fencesBefore, describeHistory(state.fenceHistory));
    await t.assertSafe("graceful stop");

    // Now the survivor stops too; the first one, started alone, lacks what was committed
    // without it: it must wait for its peer rather than run the group on a stale view.
    await t.stopAgent(other);
    await t.startAgent(active, { probed: false });
    await sleep(3_000);
    const alone = await t.cluster.status(active);
    assert.equal(alone.coordination?.twoNode?.caughtUp, false);
    assert.notEqual(alone.coordination?.role, "leader");
    assert.deepEqual(t.watch.holders(), [], "nobody holds the VIP");
    await t.startAgent(other);
    await waitFor(`${t.name(active)} to catch up`, async () =>
      (await twoNodeOf(active)).caughtUp ? true : undefined,
    );
    await t.waitForGroup();
    await t.assertSafe("restart of a lone node");
  });
});
