import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTimeoutSeconds } from "../../src/cli/commands/resource.js";
import { type ResourcesReply, renderResources } from "../../src/cli/resources-table.js";
import { leaderNameOf } from "../../src/cli/status-table.js";
import type { AgentStatus } from "../../src/control/status-reply.js";

const reply = (more: Partial<ResourcesReply> = {}): ResourcesReply => ({
  state: {},
  local: [],
  leader: null,
  ...more,
});

describe("vigil status: the Resources section", () => {
  test("nothing running, no overrides, not the leader: one line", () => {
    assert.deepEqual(renderResources(reply(), {}, "alpha"), ["Resources: none running"]);
  });

  test("a follower names the leader, which alone knows what cannot run, waits or is to do", () => {
    assert.deepEqual(renderResources(reply(), {}, "alpha", "beta"), [
      "Resources: none running",
      "Placement is decided by the leader, beta: what cannot run, what waits and what is still to do are shown by `vigil status` on beta",
    ]);
    assert.match(
      renderResources(reply(), {}, "alpha", null).join("\n"),
      /^Placement: no leader now, so nothing is placed/m,
    );
    assert.match(
      renderResources(reply(), {}, "alpha", "alpha").join("\n"),
      /^Placement \(this node leads\): not computed yet/m,
    );
  });

  test("the leader's name comes from the Raft status: this node, a peer, or none", () => {
    const status = (leaderId: number | null) =>
      ({
        node: { id: 1, name: "alpha" },
        nodes: [{ id: 2, name: "beta" }],
        coordination: { leaderId },
      }) as unknown as AgentStatus;
    assert.equal(leaderNameOf(status(1)), "alpha");
    assert.equal(leaderNameOf(status(2)), "beta");
    assert.equal(leaderNameOf(status(null)), null);
    assert.equal(leaderNameOf({ ...status(2), coordination: null }), null);
  });

  test("one row per key and node, keys in natural order, with what is in flight", () => {
    const lines = renderResources(
      reply({
        state: {
          "db:10": { gamma: { target: "unpromoted", active: "unpromoted" } },
          "db:2": {
            beta: { target: "promoted", active: "unpromoted" },
            alpha: { target: "stopped", active: "started", stopFailed: true },
          },
          vip: { alpha: { target: "stopped", active: "started" }, gamma: { target: "started" } },
          web: { alpha: { active: "started" } },
        },
        local: [
          { resource: "vip", role: "started", busy: true },
          { resource: "web", role: "started", busy: false },
        ],
      }),
      {},
      "alpha",
    );
    assert.deepEqual(lines, [
      "Resources:",
      "RESOURCE  NODE   TARGET      ACTIVE      NOTE",
      "db:2      alpha  stopped     started     STOP FAILED (vigil resource cleanup)",
      "          beta   promoted    unpromoted  promoting",
      "db:10     gamma  unpromoted  unpromoted",
      "vip       alpha  stopped     started     stopping, operation in flight",
      "          gamma  started     stopped     starting",
      "web       alpha  -           started",
    ]);
  });

  test("recent fences and incidents, the last five, oldest first", () => {
    const at = (minute: number) => Date.UTC(2026, 10, 29, 10, minute);
    const fence = (node: string, minute: number, ok = true) => ({
      node,
      ok,
      action: "reboot" as "reboot" | "confirm",
      devices: ["ipmi"],
      detail: ok ? "reboot by ipmi" : "ipmi: timed out",
      by: "policy@alpha",
      atMs: at(minute),
    });
    const lines = renderResources(
      reply({
        fenceHistory: [
          fence("gamma", 0),
          { ...fence("delta", 2), action: "confirm", devices: [], by: "alice" },
          fence("beta", 3, false),
          fence("beta", 5),
        ],
        incidents: [
          {
            kind: "multiply_active",
            resource: "vip",
            nodes: ["alpha", "beta"],
            by: "agent@beta",
            atMs: at(4),
          },
          { kind: "multiply_active", resource: "web", nodes: ["a", "b"], by: "x", atMs: at(1) },
        ],
      }),
      {},
      "alpha",
    );
    // Six events: the oldest (gamma's fence at 10:00) is left out.
    assert.deepEqual(lines, [
      "Resources: none running",
      "Recent events:",
      "  2026-11-29T10:01:00.000Z  INCIDENT: web ran on a and b at once (extra copies stopped)",
      "  2026-11-29T10:02:00.000Z  delta confirmed down by alice",
      "  2026-11-29T10:03:00.000Z  beta FENCING FAILED (reboot, ipmi) by policy@alpha: ipmi: timed out",
      "  2026-11-29T10:04:00.000Z  INCIDENT: vip ran on alpha and beta at once (extra copies stopped)",
      "  2026-11-29T10:05:00.000Z  beta fenced (reboot, ipmi) by policy@alpha",
    ]);
  });

  test("a fence shows each agent run on a line: a level that failed before another fenced", () => {
    const atMs = Date.UTC(2026, 10, 29, 10, 0);
    const lines = renderResources(
      reply({
        fenceHistory: [
          {
            node: "beta",
            ok: true,
            action: "reboot",
            devices: ["pdu"],
            detail: "reboot by pdu (level 2); failed: level 1 ipmi: no answer within 3000 ms",
            attempts: [
              {
                level: 1,
                device: "ipmi",
                action: "reboot",
                ok: false,
                durationMs: 3000,
                detail: "no answer within 3000 ms, its process group killed",
              },
              {
                level: 2,
                device: "pdu",
                action: "reboot",
                ok: true,
                durationMs: 412,
                detail: "Success: Rebooted",
              },
            ],
            by: "alice@gamma",
            atMs,
          },
          {
            node: "beta",
            ok: false,
            action: "reboot",
            devices: ["ipmi"],
            detail: "level 1 ipmi: exit code 1: Failed: You have to enter fence address",
            attempts: [
              {
                level: 1,
                device: "ipmi",
                action: "reboot",
                ok: false,
                durationMs: 70,
                detail: "exit code 1: Failed: You have to enter fence address",
              },
            ],
            by: "policy@alpha",
            atMs: atMs + 60_000,
          },
        ],
      }),
      {},
      "alpha",
    );
    assert.deepEqual(lines, [
      "Resources: none running",
      "Recent events:",
      "  2026-11-29T10:00:00.000Z  beta fenced (reboot, pdu) by alice@gamma",
      "      level 1 · ipmi · reboot · FAILED after 3000 ms · no answer within 3000 ms, its process group killed",
      "      level 2 · pdu · reboot · ok after 412 ms · Success: Rebooted",
      "  2026-11-29T10:01:00.000Z  beta FENCING FAILED (reboot, ipmi) by policy@alpha",
      "      level 1 · ipmi · reboot · FAILED after 70 ms · exit code 1: Failed: You have to enter fence address",
    ]);
  });

  test("fence devices: each one's last monitor, a failing one's reason, and its event", () => {
    const atMs = Date.UTC(2026, 10, 29, 10, 0);
    const lines = renderResources(
      reply({
        fenceDevices: {
          devices: [
            {
              device: "ipmi-beta",
              agent: "fence_ipmilan",
              state: "failed",
              checkedAtMs: atMs,
              durationMs: 3000,
              sinceMs: atMs,
              detail: "no answer within 3000 ms, its process group killed",
            },
            {
              device: "kdump",
              agent: "fence_kdump",
              state: "ok",
              checkedAtMs: atMs,
              durationMs: 12,
              sinceMs: atMs,
              detail: "",
            },
            {
              device: "pdu",
              agent: "fence_apc",
              state: "unchecked",
              checkedAtMs: null,
              durationMs: null,
              sinceMs: null,
              detail: "",
            },
          ],
          checkedElsewhere: ["ipmi-alpha"],
        },
        fenceDeviceEvents: [
          {
            type: "fence_device_failed",
            atMs,
            device: "ipmi-beta",
            agent: "fence_ipmilan",
            detail: "no answer within 3000 ms, its process group killed",
          },
        ],
      }),
      {},
      "alpha",
    );
    assert.deepEqual(lines, [
      "Resources: none running",
      "Fence devices (monitored from this node):",
      "DEVICE     AGENT          MONITOR    CHECKED                   TOOK     DETAIL",
      "ipmi-beta  fence_ipmilan  FAILED     2026-11-29T10:00:00.000Z  3000 ms  no answer within 3000 ms, its process group killed",
      "kdump      fence_kdump    ok         2026-11-29T10:00:00.000Z  12 ms",
      "pdu        fence_apc      unchecked  -                         -",
      "Fence devices this node does not fence with (monitored by the nodes that do): ipmi-alpha",
      "Recent events:",
      "  2026-11-29T10:00:00.000Z  fence device ipmi-beta (fence_ipmilan) FAILED its monitor: no answer within 3000 ms, its process group killed; it may not fence when needed",
    ]);
  });

  test("operators' moves, bans and stops", () => {
    const lines = renderResources(
      reply(),
      {
        web: { prefer: "gamma", bans: ["alpha", "beta"] },
        db: { stopped: true },
        empty: {},
      },
      "alpha",
    );
    assert.deepEqual(lines, [
      "Resources: none running",
      "Operator overrides: db stopped by operator · web moved to gamma, banned from alpha, beta",
    ]);
  });

  test("on the leader: unplaceable, blocked, waiting for a lease, pending actions", () => {
    const lines = renderResources(
      reply({
        leader: {
          unplaceable: [{ resource: "web", reason: "every node is banned" }],
          blocked: [{ resource: "vip", reason: "runs on beta, which is offline" }],
          waitingForLease: ["beta"],
          pendingActions: ["a1", "a2", "a3", "a4", "a5", "a6", "a7"],
        },
      }),
      {},
      "alpha",
    );
    assert.deepEqual(lines.slice(1), [
      "Unplaceable: web: every node is banned",
      "Blocked: vip: runs on beta, which is offline",
      "Waiting for the lease of beta to end before moving their resources",
      "Pending actions (7): a1, a2, a3, a4, a5, and 2 more",
    ]);
    const settled = renderResources(
      reply({ leader: { unplaceable: [], blocked: [], waitingForLease: [], pendingActions: [] } }),
      {},
      "alpha",
    );
    assert.deepEqual(settled, [
      "Resources: none running",
      "Placement (this node leads): settled, nothing to do",
    ]);
  });
});

describe("vigil resource restart --timeout", () => {
  test("seconds, 60 by default; anything else is a usage error", () => {
    assert.equal(parseTimeoutSeconds(undefined), 60_000);
    assert.equal(parseTimeoutSeconds("2.5"), 2500);
    for (const bad of ["0", "-1", "soon", "", "Infinity"]) {
      assert.throws(() => parseTimeoutSeconds(bad), { name: "UsageError" });
    }
  });
});
