import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { HealthChecks } from "../../src/checks/health-checks.js";
import { createLogger } from "../../src/log/logger.js";
import { type ClusterState, initialState } from "../../src/state/index.js";
import { VirtualTime } from "../coordination/virtual-time.js";

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

function withChecks(checks: Record<string, unknown>): ClusterState {
  return { ...initialState(), config: { ...initialState().config, document: { checks } as never } };
}

/** HealthChecks on virtual time, the probe answering from a script of results. */
function bench(checks: Record<string, unknown>, answers: boolean[]) {
  const time = new VirtualTime(T0);
  let state = withChecks(checks);
  let running = ["web"];
  const calls = {
    failed: [] as string[],
    attributes: [] as string[],
    transitions: [] as string[],
    verdicts: [] as string[],
    tries: 0,
  };
  const health = new HealthChecks({
    nodeName: "alpha",
    clock: time,
    timers: time,
    logger: createLogger({ level: "error", pretty: false, destination: new PassThrough() }),
    probe: async () => {
      const ok = answers[calls.tries++] ?? true;
      return { ok, detail: ok ? "fine" : "broken" };
    },
    state: () => state,
    localKeysOf: (resource) => running.filter((key) => key === resource),
    failed: (key, check) => calls.failed.push(`${key} by ${check} at ${time.nowMs() - T0}`),
    setAttribute: (attribute, value) => calls.attributes.push(`${attribute}=${value}`),
    transition: (check, verdict) =>
      calls.transitions.push(`${check.name} ${verdict} at ${time.nowMs() - T0}`),
    verdictChanged: (check, verdict) =>
      calls.verdicts.push(`${check} ${verdict} at ${time.nowMs() - T0}`),
  });
  const run = async (ms: number) => {
    const until = time.nowMs() + ms;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const next = time.nextAtMs();
      if (next === undefined || next > until) break;
      time.fireNext();
    }
    time.advanceTo(until);
  };
  health.update();
  return {
    health,
    calls,
    run,
    setRunning: (keys: string[]) => (running = keys),
    setChecks: (next: Record<string, unknown>) => (state = withChecks(next)),
    time,
  };
}

describe("health checks on a node", () => {
  test("the verdict comes after rise or fall tries, one interval apart, and sets the attribute", async () => {
    const { calls, run } = bench(
      {
        ok: {
          exec: "/bin/true",
          interval_ms: 100,
          timeout_ms: 50,
          rise: 2,
          fall: 3,
          attribute: "healthy",
        },
      },
      [true, true, false, false, false, true, true],
    );
    await run(1000);
    assert.deepEqual(calls.transitions, [
      "ok passing at 100",
      "ok failing at 400",
      "ok passing at 600",
    ]);
    assert.deepEqual(calls.attributes, ["healthy=1", "healthy=0", "healthy=1"]);
  });

  test("a real server's check (neither resource nor attribute) runs, and each verdict, then its end, is told to the director", async () => {
    const check = { exec: "/bin/true", interval_ms: 100, timeout_ms: 50, rise: 2, fall: 2 };
    const { calls, run, health, setChecks } = bench({ web1: check }, [true, true, false, false]);
    await run(450);
    assert.deepEqual(calls.verdicts, ["web1 passing at 100", "web1 failing at 300"]);
    setChecks({});
    health.update();
    assert.deepEqual(calls.verdicts.at(-1), "web1 unknown at 450");
  });

  test("a check attached to a resource fails it once per fall failures, then judges afresh", async () => {
    const { calls, run } = bench(
      { alive: { exec: "/bin/true", interval_ms: 100, timeout_ms: 50, fall: 2, resource: "web" } },
      [false, false, false, true, false, false],
    );
    await run(1000);
    // Tries at 0, 100 (fail: 2 in a row), then fresh: 200 fails, 300 passes, 400 and 500 fail.
    assert.deepEqual(calls.failed, ["web by alive at 100", "web by alive at 500"]);
  });

  test("a resource-bound check runs only while the resource runs here; the node attribute is withdrawn", async () => {
    const { calls, run, health, setRunning } = bench(
      {
        alive: {
          exec: "/bin/true",
          interval_ms: 100,
          timeout_ms: 50,
          resource: "web",
          attribute: "web-ok",
        },
      },
      [],
    );
    await run(250);
    const triesWhileRunning = health.status()[0]?.lastTryAtMs;
    assert.ok(triesWhileRunning !== null && triesWhileRunning !== undefined);
    setRunning([]);
    health.update();
    assert.deepEqual(health.status(), []);
    assert.equal(calls.attributes.at(-1), "web-ok=null");
    const attributesBefore = calls.attributes.length;
    await run(1000);
    assert.equal(calls.attributes.length, attributesBefore, "no try once the resource left");
  });

  test("a TTL check passes on reports and fails at once when one does not come in time", async () => {
    const { calls, run, health } = bench(
      { app: { ttl: { ttl_ms: 500 }, fall: 3, attribute: "app-ok" } },
      [],
    );
    assert.equal(health.report("app", "pass", "ready"), null);
    await run(400);
    assert.equal(health.report("app", "warn", "slow"), null);
    await run(400);
    assert.deepEqual(calls.transitions, ["app passing at 0"]);
    await run(200);
    assert.deepEqual(calls.transitions, ["app passing at 0", "app failing at 900"]);
    assert.equal(health.status()[0]?.detail, "no report within 500 ms");
    assert.equal(health.report("app", "pass", ""), null);
    assert.equal(calls.attributes.at(-1), "app-ok=1");
    assert.match(health.report("nope", "pass", "") ?? "", /does not run on alpha/);
  });

  test("a TTL check attached to a resource fails it, and gives its restart a full TTL", async () => {
    const { calls, run } = bench({ app: { ttl: { ttl_ms: 300 }, resource: "web" } }, []);
    await run(1000);
    assert.deepEqual(calls.failed, ["web by app at 300", "web by app at 600", "web by app at 900"]);
  });

  test("an executable check takes no reports", () => {
    const { health } = bench(
      { ok: { exec: "/bin/true", interval_ms: 100, timeout_ms: 50, attribute: "a" } },
      [],
    );
    assert.match(health.report("ok", "pass", "") ?? "", /not a ttl check/);
  });
});
