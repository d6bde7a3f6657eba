import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { systemdStatusText } from "../../src/agent/systemd-status.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { createLogger } from "../../src/log/logger.js";
import type { SdNotifyOptions, SdNotifyResult } from "../../src/watchdog/systemd-notify.js";
import {
  hasEffectiveCapability,
  SystemdWatchdog,
  takeSystemdEnvironment,
} from "../../src/watchdog/systemd-watchdog.js";
import { waitFor } from "../support/wait.js";

// SystemdWatchdog with the sender replaced by a recorder (the real systemd-notify, a real agent
// and a real socket are in test/integration/systemd-notify-agent.test.ts).

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level: "info", pretty: false, destination }), lines };
}

interface Sent {
  fields: string[];
  options: SdNotifyOptions;
}

function recorder(answer: () => Promise<SdNotifyResult> = async () => ({ sent: true })) {
  const sent: Sent[] = [];
  const send = (fields: string[], options: SdNotifyOptions = {}) => {
    sent.push({ fields, options });
    return answer();
  };
  return { sent, send };
}

const SYSTEMD = { NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "100000" };
const pings = (sent: Sent[]) => sent.filter((s) => s.fields[0] === "WATCHDOG=1").length;

describe("SystemdWatchdog", () => {
  test("without NOTIFY_SOCKET it sends nothing", async () => {
    const { logger } = capturedLogger();
    const { sent, send } = recorder();
    const watchdog = new SystemdWatchdog({
      logger,
      systemdEnv: {},
      status: () => "up",
      send,
      noBlock: true,
    });
    assert.equal(watchdog.enabled, false);
    watchdog.ready();
    watchdog.stopping("test");
    await sleep(150);
    await watchdog.close();
    assert.deepEqual(sent, []);
  });

  test("READY=1 with the status, then WATCHDOG=1 pings, STATUS only when it changed", async () => {
    const { logger } = capturedLogger();
    const { sent, send } = recorder();
    let status = "follower of beta";
    const watchdog = new SystemdWatchdog({
      logger,
      systemdEnv: SYSTEMD,
      pid: 42,
      status: () => status,
      send,
      noBlock: true,
    });
    watchdog.ready();
    await waitFor("three pings", () => (pings(sent) >= 3 ? true : undefined));
    status = "leader";
    await waitFor("the new status", () =>
      sent.some((s) => s.fields.includes("STATUS=leader")) ? true : undefined,
    );
    watchdog.stopping("received SIGTERM");
    await watchdog.close();
    const after = sent.length;
    await sleep(200);
    assert.equal(sent.length, after, "no ping after close");

    assert.deepEqual(sent[0]!.fields, ["READY=1", "STATUS=follower of beta"]);
    assert.deepEqual(sent[1]!.fields, ["WATCHDOG=1"]);
    const statusChange = sent.find((s) => s.fields.includes("STATUS=leader"))!;
    assert.deepEqual(statusChange.fields, ["WATCHDOG=1", "STATUS=leader"]);
    assert.equal(sent.filter((s) => s.fields.includes("STATUS=leader")).length, 1);
    assert.deepEqual(sent.at(-1)!.fields, ["STOPPING=1", "STATUS=stopping: received SIGTERM"]);
    for (const { options } of sent) {
      assert.equal(options.noBlock, true);
      assert.equal(options.env?.NOTIFY_SOCKET, "/run/systemd/notify");
    }
  });

  test("a ping due while the previous message is still being sent is skipped", async () => {
    const { logger } = capturedLogger();
    let release = (): void => {};
    const { sent, send } = recorder(
      () => new Promise<SdNotifyResult>((resolve) => (release = () => resolve({ sent: true }))),
    );
    const watchdog = new SystemdWatchdog({
      logger,
      systemdEnv: SYSTEMD,
      pid: 42,
      status: () => "up",
      send,
      noBlock: true,
    });
    watchdog.ready();
    await sleep(300); // six intervals while READY=1 hangs
    assert.equal(sent.length, 1, "only READY=1 so far");
    release();
    await waitFor("pings again", () => (pings(sent) >= 1 ? true : undefined));
    release();
    await watchdog.close();
  });

  test("a failing socket is logged once, not once per ping", async () => {
    const { logger, lines } = capturedLogger();
    const { sent, send } = recorder(async () => ({
      sent: false,
      reason: "failed",
      error: "Connection refused",
    }));
    const watchdog = new SystemdWatchdog({
      logger,
      systemdEnv: SYSTEMD,
      pid: 42,
      status: () => "up",
      send,
      noBlock: false,
    });
    watchdog.ready();
    await waitFor("five failed pings", () => (pings(sent) >= 5 ? true : undefined));
    await watchdog.close();
    const warnings = lines.filter((line) => line.msg === "could not notify systemd");
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.equal(warnings[0]!.err, "Connection refused");
  });

  test("WATCHDOG_PID of another process: READY=1 but no pings", async () => {
    const { logger } = capturedLogger();
    const { sent, send } = recorder();
    const watchdog = new SystemdWatchdog({
      logger,
      systemdEnv: { ...SYSTEMD, WATCHDOG_PID: "43" },
      pid: 42,
      status: () => "up",
      send,
      noBlock: true,
    });
    watchdog.ready();
    await sleep(300);
    await watchdog.close();
    assert.deepEqual(
      sent.map((s) => s.fields[0]),
      ["READY=1"],
    );
  });
});

describe("systemd environment and capabilities", () => {
  test("systemd's variables move out of process.env, so that children do not inherit them", () => {
    process.env.NOTIFY_SOCKET = "/run/systemd/notify";
    process.env.WATCHDOG_USEC = "10000000";
    const taken = takeSystemdEnvironment();
    assert.equal(taken.NOTIFY_SOCKET, "/run/systemd/notify");
    assert.equal(taken.WATCHDOG_USEC, "10000000");
    assert.equal(process.env.NOTIFY_SOCKET, undefined);
    assert.equal(process.env.WATCHDOG_USEC, undefined);
    // A second agent in the same process gets the same copy.
    assert.equal(takeSystemdEnvironment().NOTIFY_SOCKET, "/run/systemd/notify");
  });

  test("CAP_SYS_ADMIN (bit 21) read from /proc/PID/status", () => {
    const status = (capEff: string) =>
      `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;
    assert.equal(hasEffectiveCapability(status("000001ffffffffff"), 21), true);
    assert.equal(hasEffectiveCapability(status("0000000000200000"), 21), true);
    assert.equal(hasEffectiveCapability(status("00000000001fffff"), 21), false);
    assert.equal(hasEffectiveCapability(status("0000000000000000"), 21), false);
    assert.equal(hasEffectiveCapability("Name:\tnode\n", 21), false);
  });
});

describe("systemd status line", () => {
  const base = (coordination: Partial<NonNullable<AgentStatus["coordination"]>> | null) =>
    ({
      node: { id: 1, name: "alpha", incarnation: 1, startedAtMs: 0 },
      nowMs: 1_000,
      nodes: [
        { id: 2, name: "beta", state: "up" },
        { id: 3, name: "gamma", state: "dead" },
      ],
      coordination:
        coordination === null
          ? null
          : {
              role: "follower",
              term: 4,
              leaderId: null,
              leaseUntilMs: null,
              waitingForAll: false,
              ...coordination,
            },
    }) as unknown as AgentStatus;

  test("role, leader, peers heard and lease", () => {
    assert.equal(systemdStatusText(base(null)), "starting; peers up 1/2");
    assert.equal(
      systemdStatusText(base({ leaderId: 2, leaseUntilMs: 1_500 })),
      "follower of beta, term 4; peers up 1/2; lease held",
    );
    assert.equal(
      systemdStatusText(base({ role: "leader", leaderId: 1, leaseUntilMs: 999 })),
      "leader, term 4; peers up 1/2; no lease",
    );
    assert.equal(
      systemdStatusText(base({ role: "pre_candidate", waitingForAll: true })),
      "pre-candidate, no leader, term 4; peers up 1/2; no lease; waiting to hear every node once",
    );
  });
});
