/**
 * LocalResources on virtual time, with an operation runner that starts nothing: every retry,
 * kick and monitor goes through the injected timers, so each call lands at an exact virtual
 * moment, and a run of seconds takes no real waiting.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { DEFAULT_META } from "../../src/resource-model/parse-model.js";
import type { Clone, Primitive, ResourceModel } from "../../src/resource-model/types.js";
import { OCF_NOT_RUNNING, OCF_SUCCESS } from "../../src/resources/agents/ocf-codes.js";
import type {
  OperationRequest,
  OperationResult,
  OperationRunner,
} from "../../src/resources/executor/operation.js";
import { applyCommand } from "../../src/state/apply.js";
import { type Command, encodeCommand } from "../../src/state/commands.js";
import { initialState } from "../../src/state/serialize.js";
import type { ClusterState } from "../../src/state/types.js";
import { LocalResources, type LocalResourcesOptions } from "../../src/takeover/local-resources.js";
import { VirtualTime } from "../coordination/virtual-time.js";

const NODE = "node1";
const T0 = 1_700_000_000_000;
const MONITOR_INTERVAL_MS = 1_000;
/** LocalResources looks again this long after something did not settle (its RETRY_MS). */
const RETRY_MS = 100;

/** Runs every operation at once, as a resource that starts and stops cleanly would. */
class RecordingRunner implements OperationRunner {
  readonly calls: Array<{ atMs: number; resource: string; operation: string }> = [];
  private readonly running = new Set<string>();

  constructor(private readonly time: VirtualTime) {}

  async run(resourceId: string, request: OperationRequest): Promise<OperationResult> {
    const atMs = this.time.nowMs();
    this.calls.push({ atMs: atMs - T0, resource: resourceId, operation: request.operation });
    if (request.operation === "start") this.running.add(resourceId);
    if (request.operation === "stop") this.running.delete(resourceId);
    const notRunning = request.operation === "monitor" && !this.running.has(resourceId);
    return {
      resourceId,
      operation: request.operation,
      outcome:
        request.operation === "monitor" ? (notRunning ? "not_running" : "running") : "success",
      exitCode: notRunning ? OCF_NOT_RUNNING : OCF_SUCCESS,
      startedAtMs: atMs,
      durationMs: 0,
      stderrTail: "",
    };
  }
}

/** Gives the promise callbacks that timers set off the chance to run: never moves time. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Fires every timer due by `endMs`, in order, letting their work finish before the next. */
async function runUntil(time: VirtualTime, endMs: number): Promise<void> {
  for (;;) {
    await settle();
    const nextMs = time.nextAtMs();
    if (nextMs === undefined || nextMs > endMs) break;
    time.fireNext();
  }
  time.advanceTo(endMs);
}

/**
 * NODE's LocalResources on virtual time over a one-node log that commits at once (the first
 * submit refused, as during an election, when `refuseFirst`), and the leader's instruction to
 * start `resource`, one second in.
 */
function onOneNodeLog(
  time: VirtualTime,
  runner: OperationRunner,
  model: ResourceModel,
  options: {
    resource: string;
    /** The leader's instruction one second in (default: started). */
    target?: "started" | "unpromoted";
    refuseFirst?: boolean;
    /** A command whose answer is lost: the caller hears "outcome unknown", nothing commits. */
    lose?: (command: Command) => boolean;
    fencing?: boolean;
    lease?: Pick<LocalResourcesOptions, "holdsLease" | "leaseRemainingMs" | "stopMarginMs">;
  },
) {
  let state: ClusterState = initialState();
  const submitted: Array<{ atMs: number; type: string; ok: boolean }> = [];
  let resources: LocalResources | undefined;
  const submit = async (command: Command): Promise<SubmitResult> => {
    const refused = options.refuseFirst === true && submitted.length === 0;
    const lost = options.lose?.(command) === true;
    submitted.push({ atMs: time.nowMs() - T0, type: command.type, ok: !refused && !lost });
    if (refused) return { ok: false, code: "no_leader", error: "election under way" };
    if (lost) return { ok: false, code: "outcome_unknown", error: "the leader did not answer" };
    const applied = applyCommand(state, encodeCommand(command));
    state = applied.state;
    resources?.kick();
    return applied.result.ok
      ? { ...applied.result, index: state.version }
      : { ...applied.result, code: "rejected" };
  };
  resources = new LocalResources({
    node: NODE,
    incarnation: 1,
    executor: runner,
    clock: time,
    timers: time,
    logger: pino({ level: "silent" }),
    state: () => state,
    model: () => model,
    holdsLease: () => true,
    ...(options.fencing === undefined ? {} : { fencing: options.fencing }),
    ...options.lease,
    submit,
  });
  resources.kick();
  time.after(1_000, () => {
    void submit({
      type: "resource_targets",
      changes: [{ resource: options.resource, node: NODE, target: options.target ?? "started" }],
      expectedVersion: state.version,
      by: "policy@node1",
      atMs: time.nowMs(),
    });
  });
  return { resources, submitted, submit, state: () => state };
}

/** A model of one exec resource (and the clones given): its operations and meta as given. */
function oneExecResource(
  id: string,
  primitive: Pick<Primitive, "operations"> & Partial<Primitive>,
  clones: ResourceModel["clones"] = {},
): ResourceModel {
  return {
    primitives: {
      [id]: {
        id,
        agent: { kind: "exec", name: "/bin/true" },
        params: {},
        meta: DEFAULT_META,
        ...primitive,
      },
    },
    groups: {},
    clones,
    constraints: [],
  };
}

/** A promotable clone "db-ha" of "db", one copy. */
const DB_HA: ResourceModel["clones"] = {
  "db-ha": {
    id: "db-ha",
    of: "db",
    max: 1,
    maxPerNode: 1,
    promotable: true,
    promotedMax: 1,
    meta: DEFAULT_META,
  },
};

/** One exec resource with 5 s operations and a monitor every `intervalMs`. */
function monitoredExecResource(id: string, intervalMs: number): ResourceModel {
  return oneExecResource(id, {
    operations: {
      start: { timeoutMs: 5_000, intervalMs: 0 },
      stop: { timeoutMs: 5_000, intervalMs: 0 },
      monitor: { timeoutMs: 5_000, intervalMs },
    },
  });
}

/** The leader's score poll of db-ha asking NODE, begun `atMs` in, with its deadline. */
function pollHereAt(
  time: VirtualTime,
  log: { submit: (command: Command) => Promise<SubmitResult>; state: () => ClusterState },
  atMs: number,
  deadlineMs: number,
): void {
  time.after(atMs, () => {
    void log.submit({
      type: "score_poll",
      clone: "db-ha",
      poll: {
        id: log.state().version + 1,
        recipients: [NODE],
        answered: [],
        deadlineAtMs: T0 + deadlineMs,
      },
      expectedVersion: log.state().version,
      by: "policy@node1",
      atMs: time.nowMs(),
    });
  });
}

/** An agent's answer at `atMs`: OCF_SUCCESS unless `more` says otherwise. */
function answer(
  resourceId: string,
  request: OperationRequest,
  atMs: number,
  outcome: OperationResult["outcome"],
  more: Partial<OperationResult> = {},
): OperationResult {
  return {
    resourceId,
    operation: request.operation,
    outcome,
    exitCode: OCF_SUCCESS,
    startedAtMs: atMs,
    durationMs: 0,
    stderrTail: "",
    ...more,
  };
}

/**
 * Ends every operation at once (a monitor finds nothing running) but `hangs`, which ends only
 * when cancelled; `calls` gets each call, and each cancellation, with its virtual time.
 */
function hangingRunner(
  time: VirtualTime,
  hangs: OperationRequest["operation"],
  calls: Array<{ atMs: number; operation: string }>,
): OperationRunner {
  return {
    run: (resourceId, request, cancel) => {
      calls.push({ atMs: time.nowMs() - T0, operation: request.operation });
      const result = (outcome: OperationResult["outcome"]): OperationResult =>
        answer(resourceId, request, time.nowMs(), outcome, {
          exitCode: outcome === "not_running" ? OCF_NOT_RUNNING : OCF_SUCCESS,
        });
      if (request.operation !== hangs)
        return Promise.resolve(result(request.operation === "monitor" ? "not_running" : "success"));
      return new Promise((resolve) =>
        cancel?.addEventListener("abort", () => {
          calls.push({ atMs: time.nowMs() - T0, operation: `${hangs} cancelled` });
          resolve(result("timeout"));
        }),
      );
    },
  };
}

/**
 * The leader's round of `clone` telling NODE (where web-clone:0 runs) of the operation on
 * `acted` (its target says which), in `phase`.
 */
function roundToldHere(given: {
  state: ClusterState;
  atMs: number;
  clone: string;
  phase: "pre" | "post";
  id: number;
  acted: { resource: string; node: string; target: "started" | "stopped" };
}): Command {
  const empty = { resource: [], uname: [] };
  const { acted } = given;
  const operation = acted.target === "stopped" ? "stop" : "start";
  const here = { resource: ["web-clone:0"], uname: [NODE] };
  const actedList = { resource: [acted.resource], uname: [acted.node] };
  return {
    type: "notify_round",
    clone: given.clone,
    round: {
      id: given.id,
      operation,
      phase: given.phase,
      actions: [{ ...acted, failures: 0 }],
      lists: {
        start: operation === "start" ? actedList : empty,
        stop: operation === "stop" ? actedList : empty,
        promote: empty,
        demote: empty,
        active: here,
        inactive: empty,
        master: empty,
        slave: empty,
        promoted: empty,
        unpromoted: empty,
        all: here,
      },
      recipients: [NODE],
      notified: {},
      deadlineAtMs: T0 + 60_000,
    },
    expectedVersion: given.state.version,
    by: "policy@node1",
    atMs: given.atMs,
  };
}

test("LocalResources runs on virtual time: the probe is retried at +100 ms, the monitor runs every interval", async () => {
  const time = new VirtualTime(T0);
  const runner = new RecordingRunner(time);
  const model = monitoredExecResource("web", MONITOR_INTERVAL_MS);
  const { resources, submitted, state } = onOneNodeLog(time, runner, model, {
    resource: "web",
    refuseFirst: true,
  });

  await runUntil(time, T0 + 4_500);

  assert.deepEqual(runner.calls, [
    // The probe, and again when its record did not commit.
    { atMs: 0, resource: "web", operation: "monitor" },
    { atMs: RETRY_MS, resource: "web", operation: "monitor" },
    { atMs: 1_000, resource: "web", operation: "start" },
    { atMs: 1_000 + MONITOR_INTERVAL_MS, resource: "web", operation: "monitor" },
    { atMs: 1_000 + 2 * MONITOR_INTERVAL_MS, resource: "web", operation: "monitor" },
    { atMs: 1_000 + 3 * MONITOR_INTERVAL_MS, resource: "web", operation: "monitor" },
  ]);
  assert.deepEqual(submitted, [
    { atMs: 0, type: "node_probed", ok: false },
    { atMs: RETRY_MS, type: "node_probed", ok: true },
    { atMs: 1_000, type: "resource_targets", ok: true },
    { atMs: 1_000, type: "resource_report", ok: true },
  ]);
  assert.equal(state().resources.web?.[NODE]?.active, "started");

  // Every timer it set was a virtual one: once detached, none is left.
  resources.detach();
  assert.equal(time.nextAtMs(), undefined);
});

test("a new definition with the same agent and parameters is taken without a restart: the monitor follows its new interval", async () => {
  const time = new VirtualTime(T0);
  const runner = new RecordingRunner(time);
  const model = monitoredExecResource("web", MONITOR_INTERVAL_MS);
  const { resources, state, submit } = onOneNodeLog(time, runner, model, { resource: "web" });
  await runUntil(time, T0 + 2_500);
  // The operator makes the monitor five times slower (a new configuration, same parameters).
  const web = model.primitives.web as Primitive;
  // A new configuration is new objects (models are never changed in place).
  model.primitives = {
    web: {
      ...web,
      operations: { ...web.operations, monitor: { timeoutMs: 5_000, intervalMs: 5_000 } },
    },
  };
  // Any committed command makes the node look at its keys again.
  await submit({
    type: "resource_targets",
    changes: [{ resource: "web", node: NODE, target: "started" }],
    expectedVersion: state().version,
    by: "policy@node1",
    atMs: time.nowMs(),
  });
  await runUntil(time, T0 + 13_000);
  assert.deepEqual(
    runner.calls
      .filter((call) => call.atMs >= 1_000)
      .map((call) => `${call.atMs} ${call.operation}`),
    ["1000 start", "2000 monitor", "7500 monitor", "12500 monitor"],
  );
  resources.detach();
});

test("a stop whose report got no answer: nothing starts from the instruction that may be void; the report goes again, and only once it commits does the node act", async () => {
  const time = new VirtualTime(T0);
  const events: string[] = [];
  let starts = 0;
  const runner: OperationRunner = {
    run: async (resourceId, request) => {
      events.push(request.operation === "monitor" ? "monitor" : request.operation);
      if (request.operation === "start" && ++starts === 1)
        return answer(resourceId, request, time.nowMs(), "failed", {
          exitCode: 1,
          severity: "soft",
          reason: "could not bind",
        });
      return request.operation === "monitor"
        ? answer(resourceId, request, time.nowMs(), "not_running", { exitCode: OCF_NOT_RUNNING })
        : answer(resourceId, request, time.nowMs(), "success");
    },
  };
  let lostReports = 0;
  const { resources } = onOneNodeLog(time, runner, monitoredExecResource("web", 60_000), {
    resource: "web",
    // The first report that it stopped is lost on the way (a lossy link, the leader gone).
    lose: (command) => {
      if (command.type !== "resource_report" && command.type !== "fail_count_increment")
        return false;
      const lost =
        command.type === "resource_report" && command.active === null && ++lostReports === 1;
      events.push(
        command.type === "resource_report"
          ? `report ${command.active ?? "stopped"}${lost ? " (lost)" : ""}`
          : "fail count",
      );
      return lost;
    },
  });
  await runUntil(time, T0 + 3_000);
  assert.deepEqual(events, [
    "monitor",
    "start",
    "fail count",
    "stop",
    "report stopped (lost)",
    // Sent again before anything else; the start comes only once it has committed.
    "report stopped",
    "start",
    "report started",
  ]);
  resources.detach();
});

test("monitorNow runs the copy's monitor at once, not at its interval; one asked for while a monitor runs follows it at once", async () => {
  const time = new VirtualTime(T0);
  const calls: Array<{ atMs: number; operation: string }> = [];
  let running = false;
  const runner: OperationRunner = {
    run: async (resourceId, request) => {
      calls.push({ atMs: time.nowMs() - T0, operation: request.operation });
      if (request.operation === "start") running = true;
      if (request.operation === "stop") running = false;
      if (request.operation !== "monitor")
        return answer(resourceId, request, time.nowMs(), "success");
      // A monitor looks at once and answers 200 ms later.
      const found = running;
      await new Promise<void>((resolve) => time.after(200, resolve));
      return found
        ? answer(resourceId, request, time.nowMs(), "running")
        : answer(resourceId, request, time.nowMs(), "not_running", { exitCode: OCF_NOT_RUNNING });
    },
  };
  const model = monitoredExecResource("ip", 60_000);
  const { resources, state } = onOneNodeLog(time, runner, model, { resource: "ip" });
  await runUntil(time, T0 + 2_000);
  assert.equal(state().resources.ip?.[NODE]?.active, "started");
  // A notice at +2 s (another address, say): the monitor finds it running.
  assert.equal(resources.monitorNow("ip", "an address was removed"), true);
  // At +2.1 s, while that monitor runs, its address goes: the monitor under way looked before.
  time.after(100, () => {
    running = false;
    resources.monitorNow("ip", "its address was removed");
  });
  await runUntil(time, T0 + 3_000);
  assert.deepEqual(
    calls.filter((call) => call.atMs >= 2_000),
    [
      { atMs: 2_000, operation: "monitor" },
      { atMs: 2_200, operation: "monitor" },
      // The failed monitor's recovery: stopped, then started again in place (on_fail restart).
      { atMs: 2_400, operation: "stop" },
      { atMs: 2_400, operation: "start" },
    ],
  );
  assert.equal(state().resources.ip?.[NODE]?.active, "started");
  assert.equal(state().failCounts?.ip?.[NODE]?.count, 1);
  resources.detach();
});

test("a start still running when the lease reaches its margin is cancelled and its copy stopped before the lease ends, not counted as a failure", async () => {
  const time = new VirtualTime(T0);
  const leaseEndMs = T0 + 2_000;
  const stopMarginMs = 50;
  const calls: Array<{ atMs: number; operation: string }> = [];
  // Starts hang until cancelled (a slow service).
  const runner = hangingRunner(time, "start", calls);
  const model = oneExecResource("db", {
    operations: {
      start: { timeoutMs: 60_000, intervalMs: 0 },
      stop: { timeoutMs: 5_000, intervalMs: 0 },
    },
  });
  const { resources, submitted } = onOneNodeLog(time, runner, model, {
    resource: "db",
    lease: {
      holdsLease: () => time.nowMs() < leaseEndMs,
      leaseRemainingMs: () => Math.max(0, leaseEndMs - time.nowMs()),
      stopMarginMs,
    },
  });

  await runUntil(time, T0 + 3_000);

  const cutAtMs = 2_000 - stopMarginMs + 1;
  assert.deepEqual(calls, [
    { atMs: 0, operation: "monitor" },
    { atMs: 1_000, operation: "start" },
    { atMs: cutAtMs, operation: "start cancelled" },
    { atMs: cutAtMs, operation: "stop" },
  ]);
  const types = submitted.map((entry) => entry.type);
  assert.ok(!types.includes("fail_count_increment"), `submitted: ${types.join(", ")}`);
  resources.detach();
});

test("a promotable clone's copy runs the monitor of its role: the unpromoted one (the first right after its start), then once promoted the promoted one", async () => {
  const time = new VirtualTime(T0);
  const calls: Array<{ atMs: number; operation: string; intervalMs?: number; timeoutMs: number }> =
    [];
  let role: "stopped" | "unpromoted" | "promoted" = "stopped";
  const runner: OperationRunner = {
    run: async (resourceId, request) => {
      calls.push({
        atMs: time.nowMs() - T0,
        operation: request.operation,
        ...(request.intervalMs === undefined ? {} : { intervalMs: request.intervalMs }),
        timeoutMs: request.timeoutMs,
      });
      if (request.operation === "start" || request.operation === "demote") role = "unpromoted";
      if (request.operation === "promote") role = "promoted";
      if (request.operation === "stop") role = "stopped";
      const monitored =
        role === "stopped" ? "not_running" : role === "promoted" ? "running_promoted" : "running";
      return answer(
        resourceId,
        request,
        time.nowMs(),
        request.operation === "monitor" ? monitored : "success",
      );
    },
  };
  const model = oneExecResource(
    "db",
    {
      operations: { monitor: { timeoutMs: 7_000, intervalMs: 0 } },
      monitorsByRole: {
        unpromoted: { timeoutMs: 6_000, intervalMs: 1_000 },
        promoted: { timeoutMs: 7_000, intervalMs: 300 },
      },
    },
    DB_HA,
  );
  const { resources, submit, state } = onOneNodeLog(time, runner, model, {
    resource: "db-ha:0",
    target: "unpromoted",
  });
  time.after(3_500, () => {
    void submit({
      type: "resource_targets",
      changes: [{ resource: "db-ha:0", node: NODE, target: "promoted" }],
      expectedVersion: state().version,
      by: "policy@node1",
      atMs: time.nowMs(),
    });
  });

  await runUntil(time, T0 + 4_500);

  assert.deepEqual(calls, [
    { atMs: 0, operation: "monitor", timeoutMs: 7_000 },
    { atMs: 1_000, operation: "start", timeoutMs: 20_000 },
    // At once: the leader promotes no copy until it knows what each copy's monitor says.
    { atMs: 1_000, operation: "monitor", intervalMs: 1_000, timeoutMs: 6_000 },
    { atMs: 2_000, operation: "monitor", intervalMs: 1_000, timeoutMs: 6_000 },
    { atMs: 3_000, operation: "monitor", intervalMs: 1_000, timeoutMs: 6_000 },
    { atMs: 3_500, operation: "promote", timeoutMs: 20_000 },
    { atMs: 3_800, operation: "monitor", intervalMs: 300, timeoutMs: 7_000 },
    { atMs: 4_100, operation: "monitor", intervalMs: 300, timeoutMs: 7_000 },
    { atMs: 4_400, operation: "monitor", intervalMs: 300, timeoutMs: 7_000 },
  ]);
  assert.equal(state().resources["db-ha:0"]?.[NODE]?.active, "promoted");
  // Its monitors gave no score: the node says so, so that the leader need not wait for one.
  assert.equal(state().agents[NODE]?.attributes?.["promotion-score-db-ha"], "none");
  resources.detach();
});

for (const fencing of [true, false]) {
  test(`a monitor failure with on_fail fence ${fencing ? "asks for this node to be fenced and leaves the copy as it is" : "without fencing enabled recovers as restart"}`, async () => {
    const time = new VirtualTime(T0);
    const operations: Array<{ atMs: number; operation: string }> = [];
    let running = false;
    const runner: OperationRunner = {
      run: async (resourceId, request) => {
        operations.push({ atMs: time.nowMs() - T0, operation: request.operation });
        if (request.operation === "start") running = true;
        if (request.operation === "stop") running = false;
        // Its first monitor after the start fails; it runs fine again after a restart.
        const fails = request.operation === "monitor" && running && operations.length === 3;
        if (request.operation !== "monitor")
          return answer(resourceId, request, time.nowMs(), "success");
        if (fails)
          return answer(resourceId, request, time.nowMs(), "failed", {
            exitCode: 1,
            severity: "soft",
            reason: "no answer",
          });
        return running
          ? answer(resourceId, request, time.nowMs(), "running")
          : answer(resourceId, request, time.nowMs(), "not_running", { exitCode: OCF_NOT_RUNNING });
      },
    };
    const model = oneExecResource("web", {
      operations: { monitor: { timeoutMs: 5_000, intervalMs: MONITOR_INTERVAL_MS } },
      meta: { ...DEFAULT_META, onFail: "fence" },
    });
    const { resources, submitted, state } = onOneNodeLog(time, runner, model, {
      resource: "web",
      fencing,
    });

    await runUntil(time, T0 + 2_500);

    const types = submitted.map((entry) => entry.type);
    if (fencing) {
      assert.deepEqual(
        operations.map((o) => o.operation),
        ["monitor", "start", "monitor"],
      );
      assert.deepEqual(types.slice(-2), ["fail_count_increment", "node_fence_request"]);
      assert.deepEqual(state().agents[NODE]?.fenceRequested, {
        resource: "web",
        reason: "web: monitor failed (on_fail fence): failed (no answer)",
      });
      assert.equal(state().resources.web?.[NODE]?.active, "started");
    } else {
      assert.deepEqual(operations.map((o) => o.operation).slice(0, 5), [
        "monitor",
        "start",
        "monitor",
        "stop",
        "start",
      ]);
      assert.ok(!types.includes("node_fence_request"), types.join(", "));
    }
    resources.detach();
  });
}

test("a copy runs with its node's own parameters, and only a change of those restarts it", async () => {
  const time = new VirtualTime(T0);
  const seen: Array<{ operation: string; params: Record<string, string> }> = [];
  const recording = new RecordingRunner(time);
  const runner: OperationRunner = {
    run: (resourceId, request) => {
      seen.push({ operation: request.operation, params: { ...request.params } });
      return recording.run(resourceId, request);
    },
  };
  const operations = {
    start: { timeoutMs: 5_000, intervalMs: 0 },
    stop: { timeoutMs: 5_000, intervalMs: 0 },
    monitor: { timeoutMs: 5_000, intervalMs: MONITOR_INTERVAL_MS },
  };
  const withParams = (paramsOn: Primitive["paramsOn"]) =>
    oneExecResource("db", { operations, params: { dir: "/srv/db", port: "6379" }, paramsOn });
  let model = withParams({ node1: { dir: "/srv/db-node1" }, node2: { dir: "/srv/db-node2" } });
  // The model is read at every look; a new configuration is looked at when it arrives.
  const { resources } = onOneNodeLog(
    time,
    runner,
    {
      ...model,
      get primitives() {
        return model.primitives;
      },
    },
    { resource: "db" },
  );
  await runUntil(time, T0 + 2_500);
  assert.ok(seen.some((call) => call.operation === "start"));
  for (const call of seen)
    assert.deepEqual(call.params, { dir: "/srv/db-node1", port: "6379" }, call.operation);

  // Another node's own parameters change: this copy runs as it was.
  model = withParams({ node1: { dir: "/srv/db-node1" }, node2: { dir: "/srv/elsewhere" } });
  resources.kick();
  await runUntil(time, T0 + 4_500);
  assert.equal(seen.filter((call) => call.operation === "stop").length, 0);

  // Its own change: stopped with what it ran with, started with the new.
  model = withParams({ node1: { dir: "/srv/db-new" } });
  resources.kick();
  await runUntil(time, T0 + 7_000);
  const stop = seen.find((call) => call.operation === "stop");
  assert.deepEqual(stop?.params, { dir: "/srv/db-node1", port: "6379" });
  assert.deepEqual(seen.filter((call) => call.operation === "start").at(-1)?.params, {
    dir: "/srv/db-new",
    port: "6379",
  });
});

test("clone notifications: the copy here runs notify with the round's type and lists and records how it ended; a failed one is only reported; a node without a copy records it had none", async () => {
  const time = new VirtualTime(T0);
  const notifications: Array<{ atMs: number; resource: string; env: Record<string, string> }> = [];
  const runner: OperationRunner = {
    run: async (resourceId, request) => {
      const atMs = time.nowMs();
      if (request.operation === "notify") {
        const env = Object.fromEntries(
          Object.entries(request.environment ?? {}).filter(([name]) =>
            /^OCF_RESKEY_CRM_meta_notify(_type|_operation|_start_uname|_active_uname|)$/.test(name),
          ),
        );
        notifications.push({ atMs: atMs - T0, resource: resourceId, env });
        const post = request.environment?.OCF_RESKEY_CRM_meta_notify_type === "post";
        return answer(resourceId, request, atMs, post ? "failed" : "success");
      }
      return answer(
        resourceId,
        request,
        atMs,
        request.operation === "monitor" ? "not_running" : "success",
      );
    },
  };
  const clone = (id: string, of: string) => ({
    id,
    of,
    max: 2,
    maxPerNode: 1 as const,
    promotable: false,
    promotedMax: 1,
    notify: true,
    meta: DEFAULT_META,
  });
  const model = oneExecResource(
    "web",
    { operations: { notify: { timeoutMs: 3_000, intervalMs: 0 } } },
    { "web-clone": clone("web-clone", "web") },
  );
  const { resources, submit, state, submitted } = onOneNodeLog(time, runner, model, {
    resource: "web-clone:0",
  });
  const acted = { resource: "web-clone:1", node: "node2", target: "started" } as const;
  const round = (phase: "pre" | "post", id: number, clone = "web-clone") =>
    submit(roundToldHere({ state: state(), atMs: time.nowMs(), clone, phase, id, acted }));
  time.after(2_000, () => void round("pre", state().version + 1));
  time.after(3_000, () => void round("post", state().notifyRounds?.["web-clone"]?.id ?? 0));
  await runUntil(time, T0 + 4_000);

  assert.deepEqual(notifications, [
    {
      atMs: 2_000,
      resource: "web-clone:0",
      env: {
        OCF_RESKEY_CRM_meta_notify: "true",
        OCF_RESKEY_CRM_meta_notify_type: "pre",
        OCF_RESKEY_CRM_meta_notify_operation: "start",
        OCF_RESKEY_CRM_meta_notify_start_uname: "node2",
        OCF_RESKEY_CRM_meta_notify_active_uname: NODE,
      },
    },
    {
      atMs: 3_000,
      resource: "web-clone:0",
      env: {
        OCF_RESKEY_CRM_meta_notify: "true",
        OCF_RESKEY_CRM_meta_notify_type: "post",
        OCF_RESKEY_CRM_meta_notify_operation: "start",
        OCF_RESKEY_CRM_meta_notify_start_uname: "node2",
        OCF_RESKEY_CRM_meta_notify_active_uname: NODE,
      },
    },
  ]);
  assert.deepEqual(state().notifyRounds?.["web-clone"]?.notified, { [NODE]: "failed" });
  // A failed notification is no failure of the copy: it runs on, nothing counted or stopped.
  assert.equal(state().resources["web-clone:0"]?.[NODE]?.active, "started");
  assert.deepEqual(state().failCounts, {});
  assert.ok(!submitted.some((s) => s.type === "fail_count_increment"));

  // A round of a clone with no copy here: recorded as skipped, nothing run.
  await submit({
    type: "notify_round",
    clone: "web-clone",
    round: null,
    expectedVersion: state().version,
    by: "policy@node1",
    atMs: time.nowMs(),
  });
  const before = notifications.length;
  time.after(100, () => void round("pre", state().version + 1, "other-clone"));
  await runUntil(time, T0 + 5_000);
  assert.equal(notifications.length, before);
  assert.deepEqual(state().notifyRounds?.["other-clone"]?.notified, { [NODE]: "skipped" });
  resources.detach();
});

test("a notification still running when the lease reaches its margin is cancelled, and the copy stopped before the lease ends", async () => {
  const time = new VirtualTime(T0);
  const leaseEndMs = T0 + 3_000;
  const stopMarginMs = 50;
  const calls: Array<{ atMs: number; operation: string }> = [];
  // Notifications hang until cancelled (a stuck agent).
  const runner = hangingRunner(time, "notify", calls);
  const model = oneExecResource(
    "web",
    { operations: { notify: { timeoutMs: 60_000, intervalMs: 0 } } },
    {
      "web-clone": {
        id: "web-clone",
        of: "web",
        max: 1,
        maxPerNode: 1,
        promotable: false,
        promotedMax: 1,
        notify: true,
        meta: DEFAULT_META,
      },
    },
  );
  const { resources, submit, state } = onOneNodeLog(time, runner, model, {
    resource: "web-clone:0",
    lease: {
      holdsLease: () => time.nowMs() < leaseEndMs,
      leaseRemainingMs: () => Math.max(0, leaseEndMs - time.nowMs()),
      stopMarginMs,
    },
  });
  time.after(2_000, () => {
    void submit(
      roundToldHere({
        state: state(),
        atMs: time.nowMs(),
        clone: "web-clone",
        phase: "pre",
        id: state().version + 1,
        acted: { resource: "web-clone:0", node: NODE, target: "stopped" },
      }),
    );
  });

  await runUntil(time, T0 + 4_000);

  const cutAtMs = 3_000 - stopMarginMs + 1;
  assert.deepEqual(
    calls.filter((call) => call.operation !== "monitor"),
    [
      { atMs: 1_000, operation: "start" },
      { atMs: 2_000, operation: "notify" },
      { atMs: cutAtMs, operation: "notify cancelled" },
      { atMs: cutAtMs, operation: "stop" },
    ],
  );
  resources.detach();
});

for (const offsets of [false, true]) {
  test(`a score poll: the copy here is monitored at once, not at its interval, and the score ${offsets ? "and replication offset " : ""}that monitor read is the answer and the attribute`, async () => {
    const time = new VirtualTime(T0);
    const monitors: number[] = [];
    const offsetAsked: boolean[] = [];
    // A replica whose offset grows with time: what a monitor reads depends on when it runs.
    const runner: OperationRunner = {
      run: async (resourceId, request) => {
        const atMs = time.nowMs() - T0;
        if (request.operation !== "monitor")
          return answer(resourceId, request, time.nowMs(), "success");
        monitors.push(atMs);
        offsetAsked.push(request.replicationOffset !== undefined);
        const running = atMs !== 0;
        return answer(resourceId, request, time.nowMs(), running ? "running" : "not_running", {
          promotionScore: atMs,
          ...(running && request.replicationOffset !== undefined
            ? { replicationOffset: atMs * 2 }
            : {}),
        });
      },
    };
    const clones: ResourceModel["clones"] = offsets
      ? {
          "db-ha": {
            ...(DB_HA["db-ha"] as Clone),
            replicationOffset: { command: "db-offset", timeoutMs: 1_000 },
          },
        }
      : DB_HA;
    const model = oneExecResource(
      "db",
      { operations: { monitor: { timeoutMs: 5_000, intervalMs: 10_000 } } },
      clones,
    );
    const { resources, submit, state } = onOneNodeLog(time, runner, model, {
      resource: "db-ha:0",
      target: "unpromoted",
    });
    const attribute = (name = "promotion-score-db-ha") => state().agents[NODE]?.attributes?.[name];
    const offset = () => attribute("replication-offset-db-ha");
    pollHereAt(time, { submit, state }, 3_000, 10_000);
    await runUntil(time, T0 + 2_999);
    assert.equal(attribute(), "1000", "the first monitor's score, right after the start");
    assert.equal(offset(), offsets ? "2000" : undefined);
    await runUntil(time, T0 + 5_000);
    assert.deepEqual(monitors, [0, 1_000, 3_000]);
    assert.deepEqual(offsetAsked, [offsets, offsets, offsets]);
    assert.deepEqual(state().scorePolls?.["db-ha"]?.answered, [NODE]);
    assert.equal(attribute(), "3000");
    assert.equal(offset(), offsets ? "6000" : undefined);
    // The history says why a copy was promoted: the scores the poll got.
    const answers = state().history.filter((entry) => entry.summary.includes("scored"));
    assert.deepEqual(
      answers.map((entry) => entry.summary),
      [
        `db-ha on ${NODE} scored 3000${offsets ? ", offset 6000" : ""} (poll ${state().scorePolls?.["db-ha"]?.id})`,
      ],
    );
    resources.detach();
  });
}

test("a score poll that comes while a monitor hangs waits for it: the copy it finds failed is stopped when that monitor ends, not two monitors later", async () => {
  // A replica whose Redis is stopped (SIGSTOP) while its primary's host dies: every monitor
  // hangs for the agent's own 2 s timeout, then fails. The poll's monitor used to be queued
  // behind the recurring one, which then set its failure aside (the copy was busy).
  const time = new VirtualTime(T0);
  const calls: Array<{ atMs: number; operation: string }> = [];
  const runner: OperationRunner = {
    run: (resourceId, request) => {
      const atMs = time.nowMs() - T0;
      calls.push({ atMs, operation: request.operation });
      if (request.operation !== "monitor" || atMs < 1_200)
        return Promise.resolve(
          answer(
            resourceId,
            request,
            time.nowMs(),
            request.operation === "monitor" ? "running" : "success",
            {
              ...(request.operation === "monitor" ? { promotionScore: 100 } : {}),
            },
          ),
        );
      return new Promise((resolve) =>
        time.after(2_000, () =>
          resolve(answer(resourceId, request, time.nowMs(), "failed", { exitCode: 1 })),
        ),
      );
    },
  };
  const model = oneExecResource(
    "db",
    { operations: { monitor: { timeoutMs: 5_000, intervalMs: 500 } } },
    DB_HA,
  );
  const { resources, submit, state } = onOneNodeLog(time, runner, model, {
    resource: "db-ha:0",
    target: "unpromoted",
  });
  pollHereAt(time, { submit, state }, 1_700, 20_000);
  await runUntil(time, T0 + 8_000);
  const stops = calls.filter((call) => call.operation === "stop").map((call) => call.atMs);
  assert.equal(
    stops[0],
    3_500,
    `monitors at ${calls
      .filter((c) => c.operation === "monitor")
      .map((c) => c.atMs)
      .join(", ")}; stops at ${stops.join(", ")}`,
  );
  resources.detach();
});

for (const notify of [true, false]) {
  test(`a copy whose monitor fails, of a clone ${notify ? "that notifies: stopped and its instruction given back (the leader starts it again through a round); not restarted here untold" : "that does not notify: restarted in place"}`, async () => {
    const time = new VirtualTime(T0);
    const calls: string[] = [];
    let running = false;
    const runner: OperationRunner = {
      run: async (resourceId, request) => {
        const atMs = time.nowMs() - T0;
        calls.push(`${atMs} ${request.operation}`);
        if (request.operation === "start") running = true;
        if (request.operation === "stop") running = false;
        // The service dies on its own two seconds in.
        if (atMs >= 2_000 && calls.filter((c) => c.endsWith("start")).length === 1) running = false;
        const monitored = running ? "running" : "not_running";
        return answer(
          resourceId,
          request,
          time.nowMs(),
          request.operation === "monitor" ? monitored : "success",
          { exitCode: request.operation === "monitor" && !running ? OCF_NOT_RUNNING : OCF_SUCCESS },
        );
      },
    };
    const model = oneExecResource(
      "web",
      {
        operations: {
          start: { timeoutMs: 5_000, intervalMs: 0 },
          stop: { timeoutMs: 5_000, intervalMs: 0 },
          monitor: { timeoutMs: 5_000, intervalMs: 1_000 },
        },
      },
      {
        "web-clone": {
          id: "web-clone",
          of: "web",
          max: 2,
          maxPerNode: 1,
          promotable: false,
          promotedMax: 1,
          notify,
          meta: DEFAULT_META,
        },
      },
    );
    const { resources, state } = onOneNodeLog(time, runner, model, { resource: "web-clone:0" });
    await runUntil(time, T0 + 5_000);
    const starts = calls.filter((call) => call.endsWith("start"));
    if (notify) {
      assert.deepEqual(starts, ["1000 start"], calls.join(", "));
      assert.equal(state().resources["web-clone:0"], undefined, "the instruction is given back");
    } else {
      assert.equal(starts.length, 2, calls.join(", "));
      assert.equal(state().resources["web-clone:0"]?.[NODE]?.active, "started");
    }
    assert.equal(state().failCounts["web-clone:0"]?.[NODE]?.count, 1);
    resources.detach();
  });
}

test("a transient attribute of this run that another node's agent set after ours committed stays as they set it; one removed is set again", async () => {
  const time = new VirtualTime(T0);
  const runner: OperationRunner = {
    run: async (resourceId, request) => answer(resourceId, request, time.nowMs(), "success"),
  };
  const { resources, submit, state } = onOneNodeLog(
    time,
    runner,
    monitoredExecResource("web", 1_000),
    {
      resource: "web",
    },
  );
  const attribute = () => state().agents[NODE]?.attributes?.["master-pgsql"];
  const byOther = (value: string | null) =>
    void submit({
      type: "node_transient_attribute",
      node: NODE,
      incarnation: 1,
      key: "master-pgsql",
      value,
      by: "agent@node2",
      atMs: time.nowMs(),
    });
  time.after(2_000, () => resources.setAttribute("master-pgsql", "-INFINITY"));
  await runUntil(time, T0 + 3_000);
  assert.equal(attribute(), "-INFINITY");
  // pgsql's primary on node2 lets this replica be promoted (a two-node cluster).
  time.after(500, () => byOther("100"));
  await runUntil(time, T0 + 8_000);
  assert.equal(attribute(), "100", "the other node's write stands through this node's monitors");
  // Gone (as a new probe of this run would leave it): this node's value goes back.
  time.after(500, () => byOther(null));
  await runUntil(time, T0 + 12_000);
  assert.equal(attribute(), "100", "the last value this node knew, the other's, is set again");
  resources.detach();
});
