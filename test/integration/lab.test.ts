import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import {
  type Direction,
  type Lab,
  type LabHost,
  type LabProcess,
  labObjects,
  labTestOptions,
  withLab,
} from "../lab/index.js";
import { waitFor } from "../support/wait.js";

const options = labTestOptions(["ping", "socat"]);
const UDP_PORT = 47001;

async function pingOk(from: LabHost, to: LabHost, link: number): Promise<boolean> {
  const result = await from.exec("ping", ["-c1", "-W1", to.address(link)]);
  return result.code === 0;
}

/** Polls `check` until it holds; false if it never did within `timeoutMs` (a broken run). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  return waitFor("condition", async () => ((await check()) ? true : undefined), {
    timeoutMs,
    intervalMs: 50,
  }).catch(() => false);
}

/** State letter from /proc/PID/stat; the command name in parentheses may itself contain spaces. */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function sendUdp(from: LabHost, to: LabHost, link: number, text: string): Promise<void> {
  const target = `UDP-SENDTO:${to.address(link)}:${UDP_PORT}`;
  const result = await from.exec("socat", ["-u", "-", target], { input: `${text}\n` });
  assert.equal(result.code, 0, `socat send failed: ${result.stderr}`);
}

/** Starts a UDP listener on `host` and waits until a datagram from `peer` gets through. */
async function udpListener(host: LabHost, peer: LabHost, link: number): Promise<LabProcess> {
  const listener = host.spawn("socat", ["-u", `UDP-RECV:${UDP_PORT}`, "-"]);
  const marker = `ready-${peer.index}-to-${host.index}`;
  const ready = await eventually(async () => {
    await sendUdp(peer, host, link, marker);
    return listener.stdout.includes(marker);
  });
  assert.equal(ready, true, `UDP listener on host ${host.index} never received ${marker}`);
  return listener;
}

/** Sends `text` until `listener` prints it: proves the path works, and orders what came before. */
async function deliver(
  from: LabHost,
  to: LabHost,
  link: number,
  listener: LabProcess,
  text: string,
) {
  const delivered = await eventually(async () => {
    await sendUdp(from, to, link, text);
    return listener.stdout.includes(text);
  });
  assert.equal(delivered, true, `"${text}" from host ${from.index} never reached host ${to.index}`);
}

/**
 * With `host`'s link cut in one direction, a datagram passes the open direction and not the cut
 * one. The dropped datagram is proven lost without waiting on a clock: after healing, a later
 * datagram on the same path arrives, and the bridge keeps the order of one sender's frames.
 */
async function checkOneWayCut(
  lab: Lab,
  host: LabHost,
  peer: LabHost,
  link: number,
  direction: Direction,
) {
  const listeners: LabProcess[] = [];
  try {
    const atHost = await udpListener(host, peer, link);
    listeners.push(atHost);
    const atPeer = await udpListener(peer, host, link);
    listeners.push(atPeer);
    await lab.cutLink(host, link, direction);
    const [open, cut] =
      direction === "in"
        ? [
            { from: host, to: peer, listener: atPeer },
            { from: peer, to: host, listener: atHost },
          ]
        : [
            { from: peer, to: host, listener: atHost },
            { from: host, to: peer, listener: atPeer },
          ];
    const tag = `${direction}-${lab.faultPlacement}`;
    await deliver(open.from, open.to, link, open.listener, `open-during-${tag}`);
    for (let i = 0; i < 3; i++) await sendUdp(cut.from, cut.to, link, `cut-during-${tag}`);
    await lab.healLink(host, link);
    await deliver(cut.from, cut.to, link, cut.listener, `after-heal-${tag}`);
    assert.equal(
      cut.listener.stdout.includes(`cut-during-${tag}`),
      false,
      `a "${direction}" cut on host ${host.index} must drop host ${cut.from.index}'s datagrams`,
    );
  } finally {
    // Leave the lab as found, so one failure does not cascade into the next subtest.
    await lab.healLink(host, link);
    for (const listener of listeners) {
      listener.kill("SIGKILL");
      await listener.exited;
    }
  }
}

async function assertNothingLeft(id: string, dir: string): Promise<void> {
  assert.deepEqual(await labObjects(id), [], `no namespace or link of lab ${id} may remain`);
  assert.equal(existsSync(dir), false, `lab dir ${dir} must be removed`);
}

describe("test lab (network namespaces)", options, () => {
  test("hosts, links, faults and processes behave like real machines", async (t) => {
    let id = "";
    let dir = "";
    await withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
      id = lab.id;
      dir = lab.dir;
      const [h0, h1, h2] = lab.hosts as [LabHost, LabHost, LabHost];
      const client = lab.host(3);

      await t.test("names and addresses follow the documented scheme", () => {
        assert.match(lab.id, /^vg[0-9a-f]{5}$/);
        assert.equal(h0.ns, `${lab.id}-h0`);
        assert.equal(lab.switchNs, `${lab.id}-sw`);
        assert.deepEqual(lab.namespaces(), [h0.ns, h1.ns, h2.ns, client.ns, lab.switchNs]);
        assert.equal(h1.address(1), "198.18.1.2");
        assert.equal(h2.address(0), "198.18.0.3");
        assert.equal(client.address(0), "198.18.0.101");
        assert.equal(h2.device(1), "eth1");
        assert.throws(() => client.address(1), /no link 1/);
        assert.throws(() => lab.host(4), /hosts are 0\.\.2, clients 3\.\.3/);
      });

      await t.test(
        "every host reaches every other on both links, the client on link 0",
        async () => {
          const pairs = [
            [h0, h1],
            [h0, h2],
            [h1, h2],
            [h2, h0],
          ] as const;
          const checks = pairs.flatMap(([a, b]) => [0, 1].map((link) => pingOk(a, b, link)));
          assert.deepEqual(await Promise.all(checks), Array(8).fill(true));
          assert.equal(await pingOk(client, h0, 0), true);
        },
      );

      await t.test(
        "cutLink(h2, 0) drops link 0 both ways, link 1 still works; heal restores",
        async () => {
          await lab.cutLink(h2, 0);
          assert.deepEqual(lab.linkFaults(h2, 0), { cut: "both", loss: null });
          const [to, from, otherTo, otherFrom] = await Promise.all([
            pingOk(h0, h2, 0),
            pingOk(h2, h0, 0),
            pingOk(h0, h2, 1),
            pingOk(h2, h0, 1),
          ]);
          assert.deepEqual(
            { to, from, otherTo, otherFrom },
            { to: false, from: false, otherTo: true, otherFrom: true },
          );
          assert.equal(await pingOk(h0, h1, 0), true, "the other hosts' link 0 is untouched");
          await lab.healLink(h2, 0);
          assert.deepEqual(lab.linkFaults(h2, 0), { cut: null, loss: null });
          assert.equal(await eventually(() => pingOk(h0, h2, 0)), true);
          assert.equal(await pingOk(h2, h0, 0), true);
        },
      );

      await t.test("an inbound cut drops what reaches h2, not what it sends (UDP)", async () => {
        await checkOneWayCut(lab, h2, h0, 0, "in");
      });

      await t.test("an outbound cut drops what h2 sends, not what reaches it (UDP)", async () => {
        await checkOneWayCut(lab, h2, h0, 0, "out");
      });

      await t.test("cutAll cuts every link of the host; healAll restores them", async () => {
        await lab.cutAll(h1);
        assert.deepEqual(await Promise.all([pingOk(h0, h1, 0), pingOk(h0, h1, 1)]), [false, false]);
        await lab.healAll(h1);
        assert.equal(await eventually(() => pingOk(h0, h1, 0)), true);
        assert.equal(await eventually(() => pingOk(h0, h1, 1)), true);
      });

      await t.test("randomLoss 100% drops everything, clearLoss restores", async () => {
        await lab.randomLoss(h2, 0, 100);
        assert.deepEqual(await Promise.all([pingOk(h0, h2, 0), pingOk(h2, h0, 0)]), [false, false]);
        assert.equal(await pingOk(h0, h2, 1), true);
        await lab.clearLoss(h2, 0);
        assert.equal(await eventually(() => pingOk(h0, h2, 0)), true);
      });

      await t.test("randomLoss 50% inbound loses about half of 200 pings", async () => {
        await lab.randomLoss(h2, 0, 50, "in");
        try {
          const args = ["-q", "-c", "200", "-i", "0.005", "-W", "0.5", h2.address(0)];
          const result = await h0.exec("ping", args, { timeoutMs: 30_000 });
          const match = /(\d+) packets transmitted, (\d+) received/.exec(result.stdout);
          assert.ok(match, `unexpected ping output: ${result.stdout}${result.stderr}`);
          const lossPercent = 100 - (Number(match[2]) * 100) / Number(match[1]);
          // Binomial(200, 0.5) leaves 30..70 % with probability 1 - 1e-8.
          assert.ok(
            lossPercent >= 30 && lossPercent <= 70,
            `loss ${lossPercent}% should be near 50%`,
          );
        } finally {
          await lab.clearLoss(h2, 0);
        }
      });

      await t.test("spawn captures output, waitForLine finds lines, kill signals", async () => {
        const shell = h1.spawn(
          "sh",
          ["-c", 'echo "hello from $ROLE"; echo oops >&2; exec sleep 30'],
          {
            env: { ROLE: "h1" },
          },
        );
        assert.equal(await shell.waitForLine(/^hello from/, 5_000), "hello from h1");
        assert.equal(await shell.waitForLine(/oops/, 5_000, "stderr"), "oops");
        assert.equal(shell.stdout, "hello from h1\n");
        await assert.rejects(
          shell.waitForLine(/never printed/, 200),
          /within 200 ms[\s\S]*hello from h1/,
        );
        shell.kill("SIGTERM");
        assert.deepEqual(await shell.exited, { code: null, signal: "SIGTERM" });
        assert.equal(shell.running, false);
        assert.equal(readFileSync(shell.stdoutPath, "utf8"), "hello from h1\n");

        const quitter = h1.spawn("sh", ["-c", "echo bye; exit 3"]);
        await assert.rejects(quitter.waitForLine(/never/, 10_000), /before it exited \(code 3\)/);

        const ns = await h1.exec("ip", ["netns", "identify"]);
        assert.equal(ns.stdout.trim(), h1.ns, "spawned commands run inside the host namespace");
      });

      await t.test(
        "pause stops the host's processes (state T), resume continues them",
        async () => {
          const sleeper = h1.spawn("sleep", ["30"]);
          assert.equal(await eventually(async () => processState(sleeper.pid) === "S"), true);
          await lab.pause(h1);
          assert.equal(await eventually(async () => processState(sleeper.pid) === "T"), true);
          await lab.resume(h1);
          assert.equal(await eventually(async () => processState(sleeper.pid) === "S"), true);
          sleeper.kill("SIGKILL");
          assert.deepEqual(await sleeper.exited, { code: null, signal: "SIGKILL" });
        },
      );

      await t.test(
        "powerOff downs the links and kills the processes; powerOn brings links back",
        async () => {
          const sleeper = h2.spawn("sleep", ["30"]);
          const listener = h2.spawn("socat", ["-u", `UDP-RECV:${UDP_PORT}`, "-"]);
          await lab.powerOff(h2);
          assert.deepEqual(await sleeper.exited, { code: null, signal: "SIGKILL" });
          assert.deepEqual(await listener.exited, { code: null, signal: "SIGKILL" });
          assert.equal(isRunning(sleeper.pid), false);
          const pids = await h0.exec("ip", ["netns", "pids", h2.ns]);
          assert.equal(pids.stdout.trim(), "", "nothing may run on a powered-off host");
          for (const link of [0, 1]) {
            const show = await h2.exec("ip", ["-j", "link", "show", h2.device(link)]);
            const [info] = JSON.parse(show.stdout) as { flags: string[] }[];
            assert.equal(info?.flags.includes("UP"), false, `eth${link} of h2 must be down`);
          }
          assert.equal(await pingOk(h0, h2, 0), false);
          await lab.powerOn(h2);
          assert.equal(await eventually(() => pingOk(h0, h2, 0)), true);
          assert.equal(await eventually(() => pingOk(h0, h2, 1)), true);
          const neighbours = await h2.exec("ip", [
            "neigh",
            "show",
            "dev",
            "eth0",
            "nud",
            "permanent",
          ]);
          assert.match(neighbours.stdout, /198\.18\.0\.1 lladdr 02:00:c6:12:00:01 PERMANENT/);
        },
      );
    });
    await assertNothingLeft(id, dir);
  });

  test("an outbound cut works with the switch-side fallback placement too", async () => {
    let id = "";
    let dir = "";
    await withLab({ hosts: 2, faultPlacement: "switch-ingress" }, async (lab) => {
      id = lab.id;
      dir = lab.dir;
      const [h0, h1] = lab.hosts as [LabHost, LabHost];
      await lab.cutLink(h1, 0, "out");
      const sw = await h0.exec("ip", ["netns", "exec", lab.switchNs, "nft", "list", "tables"]);
      assert.match(sw.stdout, /table netdev vigil_lab_vg[0-9a-f]{5}_h1l0/);
      await lab.healLink(h1, 0);
      await checkOneWayCut(lab, h1, h0, 0, "out");
      await checkOneWayCut(lab, h1, h0, 0, "in");
    });
    await assertNothingLeft(id, dir);
  });

  test("teardown runs and kills the lab's processes when the body throws", async () => {
    let id = "";
    let dir = "";
    let pid = 0;
    await assert.rejects(
      withLab({ hosts: 2 }, async (lab) => {
        id = lab.id;
        dir = lab.dir;
        pid = lab.host(0).spawn("sleep", ["30"]).pid;
        await lab.cutLink(1, 0);
        throw new Error("body failed on purpose");
      }),
      /body failed on purpose/,
    );
    assert.ok(pid > 0);
    assert.equal(isRunning(pid), false, "the spawned process must be killed");
    await assertNothingLeft(id, dir);
  });

  test("the exit-time safety net removes a lab when the test process is interrupted", async () => {
    // A child test process builds a lab, starts a process in it, then gets SIGTERM mid-test.
    const script = [
      'import { createLab } from "./test/lab/index.js";',
      "const lab = await createLab({ hosts: 2, links: 2 });",
      'const sleeper = lab.host(1).spawn("sleep", ["30"]);',
      "console.log(JSON.stringify({ id: lab.id, dir: lab.dir, pid: sleeper.pid }));",
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: process.cwd(),
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = once(child, "exit");
    const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
    const created = JSON.parse(line) as { id: string; dir: string; pid: number };
    assert.notDeepEqual(
      await labObjects(created.id),
      [],
      "the child's lab must exist before the kill",
    );
    child.kill("SIGTERM");
    assert.deepEqual(await exited, [null, "SIGTERM"]);
    // Orphaned by the child, it is reaped by init: dead means gone or a zombie.
    assert.equal(
      await eventually(async () => !isRunning(created.pid) || processState(created.pid) === "Z"),
      true,
      "the lab's process must be killed",
    );
    // Namespace deletion started synchronously at exit; the kernel may take a moment to finish.
    assert.equal(await eventually(async () => (await labObjects(created.id)).length === 0), true);
    assert.equal(existsSync(created.dir), false);
  });

  test("labs created concurrently get distinct names and both work", async () => {
    const runOne = () =>
      withLab({ hosts: 2 }, async (lab) => ({
        id: lab.id,
        dir: lab.dir,
        ping: await pingOk(lab.host(0), lab.host(1), 0),
      }));
    const [a, b] = await Promise.all([runOne(), runOne()]);
    assert.notEqual(a.id, b.id);
    assert.deepEqual([a.ping, b.ping], [true, true]);
    await assertNothingLeft(a.id, a.dir);
    await assertNothingLeft(b.id, b.dir);
  });
});
