/**
 * The vip agent and OCF IPaddr2 inside two network namespaces joined by a veth pair: the agent
 * runs in "host", and "peer" plays a neighbour whose ARP cache must learn the VIP's new owner.
 * Needs root; skipped otherwise.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentRef, OperationName } from "../../src/resource-model/types.js";
import { VipAgent } from "../../src/resources/agents/vip/vip-agent.js";
import { Executor } from "../../src/resources/executor/executor.js";
import type { OperationRequest } from "../../src/resources/executor/operation.js";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";
import { waitFor } from "../support/wait.js";
import { ip, isRoot, NetnsRunner, randomSuffix, steppingClock } from "./support.js";

const skip = isRoot() ? false : "needs root to create network namespaces";
const VIP: AgentRef = { kind: "vip", name: "vip" };
const IPADDR2: AgentRef = { kind: "ocf", name: "heartbeat/IPaddr2" };
/** What the peer believed before the failover: the previous owner's MAC. */
const OLD_OWNER_MAC = "02:00:00:00:00:99";

interface Lab {
  host: string;
  peer: string;
  subnet: string;
  hostMac: string;
  executor: Executor;
}

async function withLab(body: (lab: Lab) => Promise<void>): Promise<void> {
  const suffix = randomSuffix();
  const host = `vigil-vip-h-${suffix}`;
  const peer = `vigil-vip-p-${suffix}`;
  // 198.18.<random>.0/24: inside the benchmarking range the project reserves for namespaces.
  const subnet = `198.18.${100 + Math.floor(Math.random() * 150)}`;
  const created: string[] = [];
  try {
    for (const ns of [host, peer]) {
      ip("netns", "add", ns);
      created.push(ns);
      ip("-n", ns, "link", "set", "lo", "up");
    }
    ip("-n", host, "link", "add", "vh0", "type", "veth", "peer", "name", "vp0", "netns", peer);
    ip("-n", host, "addr", "add", `${subnet}.1/24`, "dev", "vh0");
    ip("-n", peer, "addr", "add", `${subnet}.2/24`, "dev", "vp0");
    ip("-n", host, "link", "set", "vh0", "up");
    ip("-n", peer, "link", "set", "vp0", "up");
    const hostMac = JSON.parse(ip("-n", host, "-j", "link", "show", "vh0"))[0].address as string;
    const executor = new Executor({
      clock: steppingClock(),
      runner: new NetnsRunner(host, new ChildProcessRunner()),
    });
    await body({ host, peer, subnet, hostMac, executor });
  } finally {
    for (const ns of created) {
      // Whatever an agent left running there (IPaddr2's background send_arp) was started by us.
      for (const pid of ip("netns", "pids", ns).split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {}
      }
      ip("netns", "del", ns);
    }
  }
}

function request(
  operation: OperationName,
  agent: AgentRef,
  params: Record<string, string>,
): OperationRequest {
  return { operation, agent, params, timeoutMs: 20_000 };
}

function hasAddress(ns: string, address: string): boolean {
  return ip("-n", ns, "-o", "addr", "show").includes(` ${address}/`);
}

/** The peer's neighbour entry for `address`: its MAC, or undefined. */
function peerNeighbourMac(lab: Lab, address: string): string | undefined {
  const line = ip("-n", lab.peer, "neigh", "show", address, "dev", "vp0");
  return /lladdr (\S+)/.exec(line)?.[1];
}

/** The peer still believes the previous owner holds the VIP, as after a failover. */
function believeOldOwner(peerNs: string, address: string): void {
  ip("-n", peerNs, "neigh", "add", address, "lladdr", OLD_OWNER_MAC, "dev", "vp0", "nud", "stale");
}

test("vip: start adds the address and tells the neighbours, monitor sees it, stop removes it", {
  skip,
}, async () => {
  await withLab(async (lab) => {
    const address = `${lab.subnet}.100`;
    believeOldOwner(lab.peer, address);
    const params = { address, arp_count: "3", arp_interval_ms: "100" };
    const run = (operation: OperationName) =>
      lab.executor.run("vip1", request(operation, VIP, params));

    assert.equal((await run("monitor")).outcome, "not_running");
    const started = await run("start");
    assert.equal(started.outcome, "success", started.reason);
    assert.equal(started.reason, undefined);
    // No interface given: found by subnet, added as /32.
    assert.match(
      ip("-n", lab.host, "-o", "addr", "show", "dev", "vh0"),
      new RegExp(` ${address}/32 `),
    );
    // The first gratuitous ARP went out before start returned.
    assert.equal(peerNeighbourMac(lab, address), lab.hostMac);
    assert.equal((await run("monitor")).outcome, "running");
    assert.equal((await run("start")).outcome, "success", "start again is harmless");

    ip("-n", lab.host, "addr", "del", `${address}/32`, "dev", "vh0");
    assert.equal((await run("monitor")).outcome, "not_running");

    assert.equal((await run("start")).outcome, "success");
    assert.equal((await run("stop")).outcome, "success");
    assert.equal(hasAddress(lab.host, address), false);
    assert.equal((await run("stop")).outcome, "success", "stop again is harmless");
    assert.equal((await run("monitor")).outcome, "not_running");
  });
});

test("vip: stop cancels the gratuitous ARPs still being repeated", { skip }, async () => {
  await withLab(async (lab) => {
    const address = `${lab.subnet}.101/24`;
    const params = { address, interface: "vh0", arp_count: "100", arp_interval_ms: "50" };
    const run = (operation: OperationName) =>
      lab.executor.run("vip2", request(operation, VIP, params));
    assert.equal((await run("start")).outcome, "success");
    await waitFor("a repeated arping", () =>
      ip("netns", "pids", lab.host).trim() !== "" ? true : undefined,
    );
    assert.equal((await run("stop")).outcome, "success");
    // stop waited for the repeat loop to end: nothing of ours runs in the namespace any more.
    assert.equal(ip("netns", "pids", lab.host).trim(), "");
    assert.equal(hasAddress(lab.host, `${lab.subnet}.101`), false);
  });
});

test("vip: a monitor announces again once the last announcement is arp_refresh_ms old", {
  skip,
}, async () => {
  await withLab(async (lab) => {
    // The agent's own clock moves only when this test moves it: however long the steps below
    // take on a loaded machine, the refresh is due exactly when the test says the time has come.
    let nowMs = 0;
    const vip = new VipAgent(() => nowMs);
    const announced: string[] = [];
    const runner = new NetnsRunner(lab.host, new ChildProcessRunner());
    const executor = new Executor({
      clock: steppingClock(),
      runner: {
        run: (command) => {
          if (command.file === "arping") announced.push(command.args.at(-1)!);
          return runner.run(command);
        },
      },
      createAgent: () => vip,
    });
    const address = `${lab.subnet}.102`;
    const params = { address, arp_count: "1", arp_refresh_ms: "300" };
    const run = (operation: OperationName) => executor.run("vip3", request(operation, VIP, params));
    believeOldOwner(lab.peer, address);
    assert.equal((await run("start")).outcome, "success");
    await waitFor("start's announcement to reach the peer", () =>
      peerNeighbourMac(lab, address) === lab.hostMac ? true : undefined,
    );
    assert.deepEqual(announced, [address]);
    // The peer learns of another owner meanwhile (as while this node was cut off).
    ip("-n", lab.peer, "neigh", "del", address, "dev", "vp0");
    believeOldOwner(lab.peer, address);
    nowMs = 299;
    assert.equal((await run("monitor")).outcome, "running");
    assert.deepEqual(announced, [address], "too soon for a refresh");
    assert.equal(peerNeighbourMac(lab, address), OLD_OWNER_MAC);
    nowMs = 300;
    assert.equal((await run("monitor")).outcome, "running");
    assert.deepEqual(announced, [address, address], "the monitor announced again");
    await waitFor("the refreshed announcement to reach the peer", () =>
      peerNeighbourMac(lab, address) === lab.hostMac ? true : undefined,
    );
    assert.equal((await run("stop")).outcome, "success");
  });
});

test("vip: without arping, start refuses (saying so) rather than take the address unannounced", {
  skip,
}, async () => {
  await withLab(async (lab) => {
    const executor = new Executor({
      clock: steppingClock(),
      runner: new NetnsRunner(lab.host, new ChildProcessRunner()),
      // A PATH where ip is found and arping is not, as on a host without iputils-arping.
      createAgent: () => new VipAgent(undefined, "/usr/sbin:/sbin"),
    });
    const address = `${lab.subnet}.103`;
    const unannounced = await executor.run("v", request("start", VIP, { address }));
    assert.deepEqual([unannounced.outcome, unannounced.exitCode], ["failed", 5]);
    assert.match(
      unannounced.reason ?? "",
      /arping is not installed .*iputils-arping.*arp_count: 0/,
    );
    assert.equal(hasAddress(lab.host, address), false);
    const quiet = await executor.run("v", request("start", VIP, { address, arp_count: "0" }));
    assert.equal(quiet.outcome, "success", quiet.reason);
    assert.equal(hasAddress(lab.host, address), true);
  });
});

test("vip: configuration errors are named", { skip }, async () => {
  await withLab(async (lab) => {
    const noSubnet = await lab.executor.run(
      "v",
      request("start", VIP, { address: "198.19.200.1" }),
    );
    assert.deepEqual([noSubnet.exitCode, noSubnet.severity], [2, "hard"]);
    assert.match(
      noSubnet.reason ?? "",
      /no interface on this node has a subnet containing 198.19.200.1/,
    );
    const badAddress = await lab.executor.run("v", request("start", VIP, { address: "not-an-ip" }));
    assert.deepEqual([badAddress.exitCode, badAddress.severity], [6, "fatal"]);
    assert.match(badAddress.reason ?? "", /resource v \(vip\): address "not-an-ip"/);
    const noDevice = await lab.executor.run(
      "v",
      request("start", VIP, { address: `${lab.subnet}.7`, interface: "nosuch0" }),
    );
    assert.deepEqual(
      [noDevice.exitCode, noDevice.reason],
      [2, "interface nosuch0 does not exist on this node"],
    );
  });
});

test("OCF IPaddr2: start, monitor, stop inside the namespace", { skip }, async () => {
  await withLab(async (lab) => {
    const address = `${lab.subnet}.102`;
    believeOldOwner(lab.peer, address);
    const params = { ip: address, cidr_netmask: "24", nic: "vh0", arp_count: "2", arp_bg: "false" };
    const run = (operation: OperationName) =>
      lab.executor.run("ipaddr2", request(operation, IPADDR2, params));
    assert.equal((await run("monitor")).outcome, "not_running");
    const started = await run("start");
    assert.equal(started.outcome, "success", `${started.reason}\n${started.stderrTail}`);
    assert.equal(hasAddress(lab.host, address), true);
    assert.equal(peerNeighbourMac(lab, address), lab.hostMac);
    assert.equal((await run("monitor")).outcome, "running");
    assert.equal((await run("stop")).outcome, "success");
    assert.equal(hasAddress(lab.host, address), false);
    assert.equal((await run("monitor")).outcome, "not_running");
  });
});
