import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { createLogger } from "../../src/log/logger.js";
import type { HookDelivery } from "../../src/notify/hook-runner.js";
import { Notifier } from "../../src/notify/notifier.js";
import {
  applyCommand,
  type ClusterState,
  type Command,
  encodeCommand,
  initialState,
} from "../../src/state/index.js";
import { VirtualTime } from "../coordination/virtual-time.js";

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

/**
 * Two nodes' notifiers over one replicated state (every submit is committed at once, as by a
 * quorum), deliveries that fail as told, and leadership moved by hand.
 */
class Bench {
  readonly time = new VirtualTime(T0);
  state: ClusterState = initialState();
  leader = "alpha";
  failNext = 0;
  readonly delivered: Array<{
    by: string;
    hook: string;
    id: string;
    kind: string;
    seq?: number;
    args?: readonly string[];
  }> = [];
  readonly notifiers: Record<string, Notifier> = {};
  readonly livenessView: Record<string, "up" | "dead" | null> = { alpha: "up", beta: "up" };

  constructor() {
    for (const name of ["alpha", "beta"]) this.notifiers[name] = this.notifier(name);
  }

  commit(command: Command): boolean {
    const applied = applyCommand(this.state, encodeCommand(command));
    this.state = applied.state;
    for (const notifier of Object.values(this.notifiers)) notifier.stateChanged();
    return applied.result.ok;
  }

  run(ms: number): void {
    const until = this.time.nowMs() + ms;
    for (;;) {
      const next = this.time.nextAtMs();
      if (next === undefined || next > until) break;
      this.time.fireNext();
    }
    this.time.advanceTo(until);
  }

  private notifier(name: string): Notifier {
    return new Notifier({
      nodeName: name,
      incarnation: 1,
      clock: this.time,
      timers: this.time,
      logger: createLogger({ level: "error", pretty: false, destination: new PassThrough() }),
      deliver: async (delivery: HookDelivery) => {
        if (this.failNext > 0) {
          this.failNext--;
          return { ok: false, reason: "not yet" };
        }
        this.delivered.push({
          by: name,
          hook: delivery.hook,
          id: delivery.event.id,
          kind: delivery.event.kind,
          ...(delivery.event.seq === undefined ? {} : { seq: delivery.event.seq }),
          ...("run" in delivery.target && delivery.target.args !== undefined
            ? { args: delivery.target.args }
            : {}),
        });
        return { ok: true };
      },
      isLeader: () => this.leader === name,
      state: () => this.state,
      submit: async (command) => {
        const ok = this.commit(command);
        return ok
          ? { ok: true, index: 0, version: this.state.version }
          : { ok: false, code: "rejected", error: "refused" };
      },
      livenessOf: (node) => this.livenessView[node] ?? null,
      nodeNames: ["alpha", "beta"],
    });
  }
}

/** Lets the deliveries' promises settle between virtual-time steps. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function advance(bench: Bench, ms: number, steps = 20) {
  for (let i = 0; i < steps; i++) {
    await settle();
    bench.run(ms / steps);
  }
  await settle();
}

const document = {
  resources: {
    web: {
      agent: "vip",
      params: { address: "198.18.0.10/24" },
      notify: { started: "/usr/local/bin/on-start" },
    },
  },
  hooks: {
    pager: {
      run: "/usr/local/bin/page",
      retry_ms: 100,
      max_retry_ms: 400,
      events: ["resource_started", "node_dead"],
    },
    local: {
      run: "/usr/local/bin/local",
      where: "node",
      events: ["resource_started", "link_down"],
    },
  },
};

const command = {
  configure: (): Command => ({
    type: "config_apply",
    text: "x",
    document: document as never,
    expectedVersion: 0,
    by: "bob",
    atMs: T0,
  }),
  probed: (node: string): Command => ({
    type: "node_probed",
    node,
    incarnation: 1,
    configVersion: 1,
    active: [],
    by: `agent@${node}`,
    atMs: T0,
  }),
  started: (node: string): Command => ({
    type: "resource_report",
    resource: "web",
    node,
    incarnation: 1,
    active: "started",
    by: `agent@${node}`,
    atMs: T0,
  }),
  stopped: (node: string): Command => ({
    type: "resource_report",
    resource: "web",
    node,
    incarnation: 1,
    active: null,
    by: `agent@${node}`,
    atMs: T0,
  }),
};

describe("the notifier", () => {
  test("cluster-wide events go out once, from the leader; node events and transition scripts from the node they concern", async () => {
    const bench = new Bench();
    bench.commit(command.configure());
    bench.commit(command.probed("alpha"));
    bench.commit(command.probed("beta"));
    bench.commit(command.started("beta"));
    await advance(bench, 2000);
    const seen = bench.delivered.map(
      (d) => `${d.by} ${d.hook} ${d.kind}${d.args ? ` ${d.args.join(" ")}` : ""}`,
    );
    assert.deepEqual(seen.filter((line) => line.includes("resource_started")).sort(), [
      "alpha pager resource_started",
      "beta local resource_started",
      "beta notify-scripts resource_started web started",
    ]);
    // The leader committed its progress: nothing is left for a next leader.
    await advance(bench, 1000);
    assert.equal(bench.state.notifications?.events.length, 0);
  });

  test("a leader that fails twice, then hands over before acknowledging: the next leader delivers from the committed progress, in order", async () => {
    const bench = new Bench();
    bench.commit(command.configure());
    bench.commit(command.probed("alpha"));
    bench.failNext = 2;
    bench.commit(command.started("alpha"));
    bench.commit(command.stopped("alpha"));
    bench.commit(command.started("alpha"));
    // Two failed tries (100 ms, then 200 ms of backoff), then delivered; the progress is not yet
    // committed (it is, in batches, 500 ms after) when beta takes over.
    await advance(bench, 320, 32);
    const byAlpha = bench.delivered.filter((d) => d.by === "alpha" && d.hook === "pager");
    assert.ok(byAlpha.length >= 1, "alpha delivered after its two failures");
    bench.leader = "beta";
    bench.notifiers.alpha?.stateChanged();
    bench.notifiers.beta?.stateChanged();
    await advance(bench, 3000);
    const pager = bench.delivered.filter((d) => d.hook === "pager");
    const firstOfEach = [...new Map(pager.map((d) => [d.id, d])).values()];
    assert.deepEqual(
      firstOfEach.map((d) => d.seq),
      [1, 2],
      "both starts once each after dropping repeats by id, in order (the stop is not wanted)",
    );
    assert.ok(
      pager.some((d) => d.by === "beta"),
      "beta carried on",
    );
    assert.equal(bench.state.notifications?.delivered.pager, 2);
  });

  test("the leader records a node's death for the cluster-wide hook, once", async () => {
    const bench = new Bench();
    bench.commit(command.configure());
    await advance(bench, 100);
    bench.livenessView.beta = "dead";
    bench.notifiers.alpha?.membershipEvent({
      type: "node_dead",
      atMs: T0,
      nodeId: 2,
      name: "beta",
      incarnation: 1,
      reason: "silence",
      silentMs: 500,
    } as never);
    await advance(bench, 2000);
    assert.deepEqual(
      bench.delivered.filter((d) => d.hook === "pager").map((d) => d.kind),
      ["node_dead"],
    );
    assert.equal(bench.state.notifications?.liveness.beta, "dead");
  });
});
