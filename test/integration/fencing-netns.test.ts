/**
 * Fencing on test hosts (network namespaces): three agents on two links, the service group
 * [VIP, echo service], a client probing the VIP, and one fence device, `lab`, whose agent
 * (test/fixtures/fence/fence_lab) powers a test host off for real: its links down, every process
 * in it SIGKILLed. Each scenario asserts outcomes (who was fenced, what the cluster recorded,
 * where the service runs) and that neither the VIP nor the service was ever on two hosts at once;
 * never durations.
 *
 * A host fenced by fence_lab keeps what it had configured (the VIP, the service's pid file), like
 * a machine that is off but not yet rebooted: the fence time is recorded as a power-off for the
 * safety checks, and TakeoverLab.powerOn clears that volatile state before the host comes back.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { type Lab, labTestOptions } from "../lab/index.js";
import {
  DEVICE,
  describeHistory,
  fenceCalls,
  fencingConfig,
  powersOff,
  recordFence,
} from "../support/lab-fencing.js";
import { runLocalVigil } from "../support/local-takeover.js";
import {
  anyState,
  clientOutage,
  nowMs,
  readEchoEvents,
  SERVICE_MEMBERS,
  stateOf,
  type TakeoverLab,
} from "../support/takeover-lab.js";
import { useTakeoverLab } from "../support/takeover-lab-hooks.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);

const options = labTestOptions(["socat", "ss"]);
const LAB = { hosts: 3, links: 2, clients: 1 } as const;

/**
 * The suite's lab with the `lab` fence device (fence_lab, with `params` of its own); hands the
 * lab, the TakeoverLab and the fence log to `ready`.
 */
function useFencingLab(
  params: Record<string, string>,
  ready: (created: { lab: Lab; t: TakeoverLab; log: string }) => void,
): void {
  let log = "";
  useTakeoverLab(
    LAB,
    (created) => {
      log = join(created.dir, "fence-lab.log");
      return { extraConfig: fencingConfig(created, log, params) };
    },
    (created) => ready({ ...created, log }),
  );
}

describe("fencing across test hosts, with a working fence device", options, () => {
  let lab: Lab;
  let t: TakeoverLab;
  let log: string;

  useFencingLab({}, (created) => {
    ({ lab, t, log } = created);
  });

  test("an isolated host (alive, unreachable) is fenced, then its group runs elsewhere", async () => {
    const active = await t.waitForGroup();
    const old = t.name(active);
    const plug = lab.host(active).ns;
    const cutAt = nowMs();
    await lab.cutAll(active);

    const fenced = await waitFor(
      `the leader to fence ${old} (${plug})`,
      async () =>
        (await fenceCalls(log)).find(
          (c) => c.plug === plug && powersOff(c) && c.exit === 0 && c.atMs >= cutAt,
        ),
      { timeoutMs: 30_000 },
    );
    recordFence(t, active, fenced.atMs);
    // The fence killed the agent (and everything else) on the isolated host.
    await waitFor(`the agent on ${old} to be gone`, () =>
      t.cluster.agent(active) === undefined ? true : undefined,
    );
    const next = await t.waitForGroup("the group to run on another host", (n) => n !== old);
    await t.prober!.waitForAnswer(
      `an answer from ${t.name(next)}`,
      cutAt,
      (a) => a === t.name(next),
    );

    const history = (await anyState(t.cluster)).fenceHistory.filter((e) => e.node === old);
    const ok = history.filter((e) => e.ok);
    assert.equal(ok.length, 1, `one successful fence of ${old}: ${describeHistory(history)}`);
    assert.equal(ok[0]!.action, "reboot");
    assert.deepEqual(ok[0]!.devices, [DEVICE]);
    assert.match(ok[0]!.by, /^policy@h\d$/);
    assert.equal(history.filter((e) => !e.ok).length, 0, describeHistory(history));
    // Nobody else was shot.
    const calls = (await fenceCalls(log)).filter((c) => c.atMs >= cutAt && powersOff(c));
    assert.deepEqual(
      calls.map((c) => `${c.action} ${c.plug} exit=${c.exit}`),
      calls.map(() => `reboot ${plug} exit=0`),
    );
    // The service started elsewhere only once the fence was done (fence_lab logs when it is).
    const starts = (await readEchoEvents(lab.dir)).filter(
      (e) => e.what === "start" && e.node !== old && e.atMs >= cutAt,
    );
    assert.ok(starts.length > 0, `the service started on ${t.name(next)}`);
    for (const start of starts) {
      assert.ok(
        start.atMs >= fenced.atMs,
        `started on ${start.node} at ${start.atMs}, before ${old} was fenced at ${fenced.atMs}`,
      );
    }
    const outage = clientOutage(await t.prober!.probes(), cutAt);
    assert.deepEqual(
      outage.answeredBy.filter((n) => n !== old),
      [t.name(next)],
    );
    await t.assertSafe("isolation");

    // Back from the dead: cuts healed, volatile state cleared, agent restarted. It stays away.
    await lab.healAll(active);
    await t.powerOn(active);
    assert.equal(await t.waitForGroup(), next);
    await t.assertSafe("isolation, after power-on");
  });

  test("vigil fence NODE by hand powers off a live host that runs nothing", async () => {
    const active = await t.waitForGroup();
    const leader = await t.waitForLeader();
    // Neither the group's host nor the Raft leader: the group keeps running, undisturbed.
    const target = t.hosts.find((h) => h !== active && h !== leader)!;
    const name = t.name(target);
    const plug = lab.host(target).ns;
    const socket = t.cluster.socketPath(leader);
    const before = (await stateOf(t.cluster, leader)).fenceHistory.filter((e) => e.node === name);
    const since = nowMs();

    const result = await runLocalVigil("fence", name, "--socket", socket);
    assert.equal(result.code, 0, `vigil fence ${name}: ${result.stderr}${result.stdout}`);
    assert.match(result.stdout, new RegExp(`node ${name} fenced \\(reboot by ${DEVICE}\\)`));

    const calls = (await fenceCalls(log)).filter((c) => c.atMs >= since);
    assert.deepEqual(
      calls.map((c) => `${c.action} ${c.plug} exit=${c.exit}`),
      [`reboot ${plug} exit=0`],
    );
    recordFence(t, target, calls[0]!.atMs);
    await waitFor(`the agent on ${name} to be gone`, () =>
      t.cluster.agent(target) === undefined ? true : undefined,
    );
    const { stdout: pids } = await run("ip", ["netns", "pids", plug]);
    assert.equal(pids.trim(), "", `processes left in ${plug}`);

    const history = (await stateOf(t.cluster, leader)).fenceHistory.filter((e) => e.node === name);
    const added = history.slice(before.length);
    assert.equal(added.length, 1, describeHistory(history));
    assert.equal(added[0]!.ok, true);
    assert.equal(added[0]!.action, "reboot");
    assert.deepEqual(added[0]!.devices, [DEVICE]);
    assert.doesNotMatch(added[0]!.by, /^policy@/);

    // The fenced host ran nothing: nothing moves.
    assert.equal(await t.waitForGroup(), active);
    await t.assertSafe("manual fence");
  });
});

describe("fencing across test hosts, with a failing fence device", options, () => {
  let lab: Lab;
  let t: TakeoverLab;
  let log: string;

  // Every reboot/off/on fails (exit 1), as a device that cannot be reached would.
  useFencingLab({ exit: "1" }, (created) => {
    ({ lab, t, log } = created);
  });

  test("a failed fence keeps the group on the dead host until `vigil fence confirm`", async () => {
    const active = await t.waitForGroup();
    const old = t.name(active);
    const plug = lab.host(active).ns;
    const eventsBefore = (await readEchoEvents(lab.dir)).length;
    const offAt = await t.powerOff(active);

    const failures = await waitFor(
      `a failed fence of ${old} to be recorded`,
      async () => {
        const history = (await anyState(t.cluster)).fenceHistory.filter((e) => e.node === old);
        return history.length > 0 ? history : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.ok(
      failures.every((e) => !e.ok && e.action === "reboot"),
      describeHistory(failures),
    );
    assert.match(failures[0]!.detail, new RegExp(`^${DEVICE}: `));
    const calls = (await fenceCalls(log)).filter((c) => c.atMs >= offAt);
    assert.ok(calls.length > 0, "fence_lab was called");
    assert.deepEqual(
      calls.map((c) => `${c.action} ${c.plug} exit=${c.exit}`),
      calls.map(() => `reboot ${plug} exit=1`),
    );

    // While fencing fails, the group stays blocked on the dead host: not started anywhere else.
    const holdUntil = Date.now() + 3_000;
    while (Date.now() < holdUntil) {
      const state = await anyState(t.cluster);
      for (const member of SERVICE_MEMBERS) {
        assert.deepEqual(
          Object.keys(state.resources[member] ?? {}),
          [old],
          `${member} has cells only on ${old}: ${JSON.stringify(state.resources[member])}`,
        );
      }
      assert.deepEqual(t.watch.holders(), [], "no live host holds the VIP");
      await sleep(100);
    }
    const started = (await readEchoEvents(lab.dir))
      .slice(eventsBefore)
      .filter((e) => e.what === "start");
    assert.deepEqual(started, [], "the service was not started anywhere");
    assert.deepEqual(
      clientOutage(await t.prober!.probes(), offAt).answeredBy.filter((n) => n !== old),
      [],
      "nobody else answered for the VIP",
    );
    await t.assertSafe("failing fence device");

    // An operator makes sure the host is off and says so.
    const via = t.hosts.find((h) => h !== active && t.cluster.agent(h) !== undefined)!;
    const confirmAt = nowMs();
    const confirmed = await waitFor(
      `vigil fence confirm ${old} to be accepted`,
      async () => {
        const result = await runLocalVigil(
          "fence",
          "confirm",
          old,
          "--socket",
          t.cluster.socketPath(via),
        );
        // Refused while that agent still hears the host (it does not, once it is dead there).
        if (result.code !== 0 && /is up/.test(result.stderr)) return undefined;
        return result;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    assert.equal(confirmed.code, 0, `vigil fence confirm: ${confirmed.stderr}${confirmed.stdout}`);
    assert.match(confirmed.stdout, new RegExp(`node ${old} confirmed down`));

    const next = await t.waitForGroup("the group to run on another host", (n) => n !== old);
    await t.prober!.waitForAnswer(
      `an answer from ${t.name(next)}`,
      confirmAt,
      (a) => a === t.name(next),
    );
    const history = (await anyState(t.cluster)).fenceHistory.filter((e) => e.node === old);
    const confirms = history.filter((e) => e.ok);
    assert.equal(confirms.length, 1, describeHistory(history));
    assert.equal(confirms[0]!.action, "confirm");
    assert.deepEqual(
      clientOutage(await t.prober!.probes(), offAt).answeredBy.filter((n) => n !== old),
      [t.name(next)],
    );
    await t.assertSafe("failing fence device, after confirm");
  });
});
