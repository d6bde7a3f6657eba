/**
 * Fencing on test hosts (network namespaces): three agents on two links, the service group
 * [VIP, echo service], a client probing the VIP, and one fence device, `lab`, whose agent
 * (test/fixtures/fence/fence_lab) powers a test host off for real: its links down, every process
 * in it SIGKILLed. With the working device, level 1 of every node is Debian's fence_ipmilan at
 * an address of the lab's subnet where nothing answers (a dead BMC), so `lab` fences at level 2.
 * Each scenario asserts outcomes (who was fenced, what the cluster recorded and logged, where the
 * service runs) and that neither the VIP nor the service was ever on two hosts at once; never
 * durations.
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
import { controlPost } from "../../src/control/client.js";
import type { FenceReply } from "../../src/control/fence-routes.js";
import type { FenceAttemptRecord } from "../../src/state/types.js";
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

/** The dead BMC: an address of the lab's first subnet that no host has. */
const DEAD_BMC = "198.18.0.250";
const IPMI = "ipmi";
const IPMI_TIMEOUT_MS = 2_000;

/**
 * The suite's lab with the `lab` fence device (fence_lab, with `params` of its own), and with
 * `deadBmcFirst` a fence_ipmilan device at DEAD_BMC as every node's level 1; hands the lab, the
 * TakeoverLab and the fence log to `ready`.
 */
function useFencingLab(
  params: Record<string, string>,
  deadBmcFirst: boolean,
  ready: (created: { lab: Lab; t: TakeoverLab; log: string }) => void,
): void {
  let log = "";
  useTakeoverLab(
    LAB,
    (created) => {
      log = join(created.dir, "fence-lab.log");
      const config = fencingConfig(created, log, params);
      if (!deadBmcFirst) return { extraConfig: config };
      const nodes = Object.keys(config.fencing?.devices?.[DEVICE]?.targets ?? {});
      const fencing = {
        ...config.fencing,
        devices: {
          ...config.fencing?.devices,
          [IPMI]: {
            agent: "fence_ipmilan",
            params: { ip: DEAD_BMC, username: "admin", password: "secret", lanplus: "1" },
            targets: Object.fromEntries(nodes.map((node) => [node, ""])),
            timeout_ms: IPMI_TIMEOUT_MS,
          },
        },
        levels: Object.fromEntries(nodes.map((node) => [node, [[IPMI], [DEVICE]]])),
      };
      return { extraConfig: { ...config, fencing } };
    },
    (created) => ready({ ...created, log }),
  );
}

/** The dead BMC's attempt: level 1, no answer by its timeout. */
function assertDeadBmcFirst(attempts: readonly FenceAttemptRecord[] | undefined): void {
  assert.deepEqual(
    attempts?.map(({ level, device, action, ok }) => ({ level, device, action, ok })),
    [
      { level: 1, device: IPMI, action: "reboot", ok: false },
      { level: 2, device: DEVICE, action: "reboot", ok: true },
    ],
  );
  assert.equal(
    attempts?.[0]?.detail,
    `no answer within ${IPMI_TIMEOUT_MS} ms, its process group killed`,
  );
}

describe("fencing across test hosts, with a working fence device", options, () => {
  let lab: Lab;
  let t: TakeoverLab;
  let log: string;

  useFencingLab({}, true, (created) => {
    ({ lab, t, log } = created);
  });

  test("the dead BMC fails its monitor: vigil status shows it, an event says so, vigil fence check too", async () => {
    const host = t.hosts[0]!;
    const socket = t.cluster.socketPath(host);
    // Each agent ran every device's monitor when it started.
    const status = await waitFor(
      `${t.name(host)} to have monitored ${IPMI}`,
      async () => {
        const result = await runLocalVigil("status", "--socket", socket);
        return new RegExp(`\\n${IPMI} +fence_ipmilan +FAILED`).test(result.stdout)
          ? result
          : undefined;
      },
      { timeoutMs: 20_000 },
    );
    assert.match(status.stdout, /Fence devices \(monitored from this node\):/);
    assert.match(status.stdout, new RegExp(`\\n${DEVICE} +exec:\\S+fence_lab +ok `));
    assert.match(
      status.stdout,
      new RegExp(
        `fence device ${IPMI} \\(fence_ipmilan\\) FAILED its monitor: no answer within ${IPMI_TIMEOUT_MS} ms`,
      ),
    );
    assert.match(
      t.cluster.agent(host)?.stdout ?? "",
      new RegExp(`"event":"fence_device_failed".*"device":"${IPMI}"`),
    );

    const check = await runLocalVigil("fence", "check", "--socket", socket);
    assert.equal(check.code, 1, `vigil fence check: ${check.stderr}${check.stdout}`);
    assert.match(
      check.stdout,
      new RegExp(`\\n${IPMI} +fence_ipmilan +FAILED .* no answer within ${IPMI_TIMEOUT_MS} ms`),
    );
    assert.match(check.stdout, new RegExp(`\\n${DEVICE} +exec:\\S+fence_lab +ok `));
    assert.match(check.stderr, new RegExp(`${IPMI} failed its monitor`));
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
    // The dead BMC's failure at level 1 is not hidden by level 2's success: recorded and logged.
    assertDeadBmcFirst(ok[0]!.attempts);
    assert.match(
      ok[0]!.detail,
      new RegExp(`^reboot by ${DEVICE} \\(level 2\\); failed: level 1 ${IPMI}: no answer within`),
    );
    const fencedBy = t.hosts.find((h) => ok[0]!.by === `policy@${t.name(h)}`)!;
    const logged = t.cluster.agent(fencedBy)?.stdout ?? "";
    assert.match(logged, new RegExp(`fence of ${old}: level 1 · ${IPMI} · reboot · FAILED`));
    assert.match(logged, new RegExp(`node ${old} fenced: reboot by ${DEVICE}`));
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

    // Three operators at once: one fence operation, whose result each of them gets. The first
    // uses the CLI; once its operation has begun (level 1 then waits 2 s for a BMC that never
    // answers), two more ask the agent directly: a CLI's start-up on a loaded machine could take
    // longer than the operation, and the test would then not be about joining.
    const began = new RegExp(`fencing ${name} \\(asked by`, "g");
    const beganBefore = (t.cluster.agent(leader)?.stdout ?? "").match(began)?.length ?? 0;
    const first = runLocalVigil("fence", name, "--socket", socket);
    await waitFor(`the fence of ${name} to begin`, () =>
      ((t.cluster.agent(leader)?.stdout ?? "").match(began)?.length ?? 0) > beganBefore
        ? true
        : undefined,
    );
    const joiners = await Promise.all(
      ["alice", "bob"].map((who) =>
        controlPost<FenceReply>(
          socket,
          "/v1/fence",
          { node: name, confirm: false, by: `${who}@test` },
          60_000,
        ),
      ),
    );
    const result = await first;
    assert.equal(result.code, 0, `vigil fence ${name}: ${result.stderr}${result.stdout}`);
    assert.match(
      result.stdout,
      new RegExp(`^node ${name} fenced: reboot by ${DEVICE} \\(level 2\\)`),
    );
    assert.match(
      result.stdout,
      new RegExp(
        `\\n  level 1 · ${IPMI} · reboot · FAILED after \\d+ ms · no answer within ${IPMI_TIMEOUT_MS} ms`,
      ),
    );
    assert.match(result.stdout, new RegExp(`\\n  level 2 · ${DEVICE} · reboot · ok after`));
    assert.doesNotMatch(result.stdout, /joined the fence started by/);
    for (const reply of joiners) {
      assert.ok(reply.ok, JSON.stringify(reply));
      assert.match(reply.joinedBy ?? "", /@/, "it joined the running operation");
      assert.deepEqual(
        reply.attempts?.map((a) => [a.level, a.device, a.ok]),
        [
          [1, IPMI, false],
          [2, DEVICE, true],
        ],
      );
    }
    // The agent that ran it logged it, an operator's fence like any other.
    const logged = t.cluster.agent(leader)?.stdout ?? "";
    assert.match(logged, new RegExp(`fencing ${name} \\(asked by [^)]+\\)`));
    assert.match(logged, new RegExp(`node ${name} fenced: reboot by ${DEVICE}`));

    // Monitors of fence_lab may run meanwhile: only the calls that power off count.
    const calls = (await fenceCalls(log)).filter((c) => c.atMs >= since && powersOff(c));
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
    assertDeadBmcFirst(added[0]!.attempts);
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
  useFencingLab({ exit: "1" }, false, (created) => {
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
    assert.equal(
      failures[0]!.detail,
      `level 1 ${DEVICE}: exit code 1: fence_lab: simulated failure of reboot for ${plug} (exit 1)`,
    );
    const calls = (await fenceCalls(log)).filter((c) => c.atMs >= offAt && powersOff(c));
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
