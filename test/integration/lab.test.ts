import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Lab, labTestOptions, withLab } from "../lab/index.js";
import { listNetns } from "../lab/netns.js";

const options = labTestOptions(["ping", "socat"]);
const UDP_PORT = "47001";

async function pingOk(lab: Lab, from: number, to: number, link: number): Promise<boolean> {
  const result = await lab.exec(from, "ping", ["-c1", "-W1", lab.address(to, link)]);
  return result.code === 0;
}

/** Polls `check` every 50 ms until it holds, for at most `timeoutMs`; returns whether it held. */
async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 3_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
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

async function assertGone(namespaces: readonly string[], dir: string): Promise<void> {
  const left = new Set(await listNetns());
  assert.deepEqual(
    namespaces.filter((ns) => left.has(ns)),
    [],
    "lab namespaces must be gone when withLab returns",
  );
  assert.equal(existsSync(dir), false, `lab dir ${dir} must be removed`);
}

describe("test lab (network namespaces)", options, () => {
  test("hosts, links, faults and processes behave like real machines", async (t) => {
    let namespaces: readonly string[] = [];
    let dir = "";
    await withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
      namespaces = lab.namespaces();
      dir = lab.dir;
      assert.equal(lab.hosts.length, 3);
      assert.match(lab.nsName(0), /^vg[0-9a-f]{5}-h0$/);
      assert.equal(lab.address(1, 1), "198.18.1.2");
      assert.equal(lab.address(3, 0), "198.18.0.101");
      assert.throws(() => lab.address(3, 1), /no link 1/);

      await t.test(
        "every host reaches every other on both links, the client on link 0",
        async () => {
          const pairs = [
            [0, 1],
            [0, 2],
            [1, 2],
          ] as const;
          const checks = pairs.flatMap(([a, b]) => [0, 1].map((link) => pingOk(lab, a, b, link)));
          assert.deepEqual(await Promise.all(checks), [true, true, true, true, true, true]);
          assert.equal(await pingOk(lab, 3, 0, 0), true);
        },
      );

      await t.test(
        "cutLink drops link 0 both ways and leaves link 1 alone; healLink restores",
        async () => {
          await lab.cutLink(0, 0);
          try {
            const [out, back, other] = await Promise.all([
              pingOk(lab, 0, 1, 0),
              pingOk(lab, 1, 0, 0),
              pingOk(lab, 0, 1, 1),
            ]);
            assert.deepEqual({ out, back, other }, { out: false, back: false, other: true });
          } finally {
            await lab.healLink(0, 0);
          }
          assert.equal(await eventually(() => pingOk(lab, 0, 1, 0)), true);
          assert.equal(await pingOk(lab, 1, 0, 0), true);
        },
      );

      await t.test("an outbound cut stops h0's packets but h0 still receives", async () => {
        // h1 must know h0's MAC: with h0's ARP replies dropped it could not learn it afterwards.
        assert.equal(await pingOk(lab, 1, 0, 0), true);
        await lab.cutLink(0, 0, "out");
        try {
          const listener = lab.spawn(0, "socat", ["-u", `UDP-RECV:${UDP_PORT}`, "-"], {
            logFile: "udp.log",
          });
          const received = await eventually(async () => {
            await lab.exec(1, "socat", ["-u", "-", `UDP-SENDTO:${lab.address(0, 0)}:${UDP_PORT}`], {
              input: "from-h1\n",
            });
            return readFileSync(listener.logPath, "utf8").includes("from-h1");
          });
          assert.equal(
            received,
            true,
            "h0 must receive h1's datagram through an outbound-only cut",
          );
          assert.equal(await pingOk(lab, 0, 1, 0), false, "h0's own packets must be dropped");
          listener.kill("SIGKILL");
          await listener.exited;
        } finally {
          await lab.healLink(0, 0);
        }
        assert.equal(await eventually(() => pingOk(lab, 0, 1, 0)), true);
      });

      await t.test("setLoss(50) loses about half of 100 pings", async () => {
        assert.equal(await pingOk(lab, 1, 0, 0), true);
        // Inbound at h0, pinged from h1: one lossy direction, so about half the round trips fail.
        // (An egress drop shows up as ENOBUFS in ping, which then resends: no loss to count.)
        await lab.setLoss(0, 0, 50, "in");
        try {
          const args = ["-q", "-c", "100", "-i", "0.01", "-W", "0.2", lab.address(0, 0)];
          const result = await lab.exec(1, "ping", args);
          const match = /(\d+) packets transmitted, (\d+) received/.exec(result.stdout);
          assert.ok(match, `unexpected ping output: ${result.stdout}${result.stderr}`);
          const lossPercent = 100 - (Number(match[2]) * 100) / Number(match[1]);
          assert.ok(
            lossPercent >= 25 && lossPercent <= 75,
            `loss ${lossPercent}% should be near 50%`,
          );
        } finally {
          await lab.clearLoss(0, 0);
        }
        assert.equal(await eventually(() => pingOk(lab, 1, 0, 0)), true);
      });

      await t.test("pause stops the host's processes and resume continues them", async () => {
        const sleeper = lab.spawn(1, "sleep", ["30"]);
        assert.equal(await eventually(() => processState(sleeper.pid) === "S"), true);
        await lab.pause(1);
        assert.equal(await eventually(() => processState(sleeper.pid) === "T"), true);
        await lab.resume(1);
        assert.equal(await eventually(() => processState(sleeper.pid) === "S"), true);
        sleeper.kill("SIGKILL");
        assert.deepEqual(await sleeper.exited, { code: null, signal: "SIGKILL" });
      });

      await t.test(
        "powerOff downs the links and kills the processes; powerOn brings links back",
        async () => {
          const sleeper = lab.spawn(2, "sleep", ["30"]);
          await lab.powerOff(2);
          assert.deepEqual(await sleeper.exited, { code: null, signal: "SIGKILL" });
          assert.equal(sleeper.running, false);
          for (const link of [0, 1]) {
            const show = await lab.exec(2, "ip", ["-j", "link", "show", lab.device(link)]);
            const [info] = JSON.parse(show.stdout) as { flags: string[] }[];
            assert.equal(info?.flags.includes("UP"), false, `eth${link} of h2 must be down`);
          }
          assert.equal(await pingOk(lab, 0, 2, 0), false);
          await lab.powerOn(2);
          assert.equal(await eventually(() => pingOk(lab, 0, 2, 0)), true);
          assert.equal(await pingOk(lab, 0, 2, 1), true);
        },
      );
    });
    await assertGone(namespaces, dir);
  });

  test("teardown runs and kills the lab's processes when the body throws", async () => {
    let namespaces: readonly string[] = [];
    let dir = "";
    let pid = 0;
    await assert.rejects(
      withLab({ hosts: 2 }, async (lab) => {
        namespaces = lab.namespaces();
        dir = lab.dir;
        pid = lab.spawn(0, "sleep", ["30"]).pid;
        throw new Error("body failed on purpose");
      }),
      /body failed on purpose/,
    );
    assert.ok(pid > 0);
    assert.equal(isRunning(pid), false, "the spawned process must be killed");
    await assertGone(namespaces, dir);
  });

  test("labs created concurrently get distinct names and both work", async () => {
    const runOne = () =>
      withLab({ hosts: 2 }, async (lab) => ({
        id: lab.id,
        namespaces: lab.namespaces(),
        dir: lab.dir,
        ping: await pingOk(lab, 0, 1, 0),
      }));
    const [a, b] = await Promise.all([runOne(), runOne()]);
    assert.notEqual(a.id, b.id);
    assert.equal(a.ping, true);
    assert.equal(b.ping, true);
    await assertGone([...a.namespaces, ...b.namespaces], a.dir);
    await assertGone([], b.dir);
  });
});
