import assert from "node:assert/strict";
import { accessSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { labTestOptions, withLab } from "../lab/index.js";
import { HOSTS, PORT, readWrites, startRedis, type Write } from "../support/redis-lab.js";
import { nowMs, vipOf } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

const WRITER_SCRIPT = resolve("test/support/redis-writer.mjs");

/**
 * A promotable Redis (Debian's redis-server) on three test hosts, bound to each host's address
 * on lab link 0: one primary, two replicas following it; when the primary's host loses power,
 * the most up-to-date replica is promoted, the other follows it, and the old primary comes back
 * as a replica. When only the primary's redis-server dies (kill -9) under a client writing
 * through a VIP, the copy restarted empty in its place must not be promoted again: a replica with
 * the data is, and no write a replica had is lost. Redis is only reachable inside the lab, so
 * redis-cli runs on the lab hosts (the writer on a lab client).
 */
describe("promotable Redis across test hosts", redisLabOptions(), () => {
  test("one primary, two replicas; the primary's host dies: the most up-to-date replica takes over, the old primary rejoins", async () => {
    await withLab({ hosts: 3, links: 2 }, async (lab) => {
      const { cluster, view, primary } = await startRedis(lab);
      const {
        redis,
        replication,
        stateOn,
        primaryIn,
        pidOf,
        agentNotes,
        describeCopies,
        followers,
      } = view;
      const replicas = HOSTS.filter((host) => host !== primary);
      assert.equal(await redis(primary, ["SET", "greeting", "hello"]), "OK");
      for (const host of replicas) {
        await waitFor(`host ${host} to have the key`, async () =>
          (await redis(host, ["GET", "greeting"])) === "hello" ? true : undefined,
        );
      }

      // Node order would pick the lower replica on a tie: hold that one back, so only the
      // promotion scores (replication offsets) can pick the other. A stopped Redis stops
      // answering its monitor: about 2 s later (the agent's redis-cli timeout) Vigil finds the
      // copy failed and restarts it. That may come after the promotion (harmless: the restarted
      // copy follows the new primary like the continued one would), never before the primary's
      // host is off, or the copy could catch up and the test would prove nothing.
      const [behind, ahead] = replicas as [number, number];
      const aheadNode = cluster.name(ahead);
      const behindPid = await pidOf(behind);
      const aheadPid = await pidOf(ahead);
      process.kill(behindPid, "SIGSTOP");
      let promoted: number;
      try {
        // One redis-cli for every write: the primary takes them, `ahead` receives them.
        const writes = Array.from({ length: 50 }, (_, i) => `SET key${i} ${"x".repeat(1000)}\n`);
        const replies = (await redis(primary, [], writes.join(""))).split("\n");
        assert.deepEqual(
          replies.map((reply) => reply.trim()),
          writes.map(() => "OK"),
        );
        // The score must cover every write, not most of them: with a lower threshold the last
        // writes could still be on their way when the primary dies.
        const written = Number((await replication(primary)).master_repl_offset);
        assert.ok(written >= 50_000, `primary offset ${written} after 50 writes of 1000 bytes`);
        await waitFor(`${aheadNode} to report a promotion score with every write`, async () => {
          const score = (await stateOn(ahead)).agents[aheadNode]?.attributes?.[
            "promotion-score-redis-ha"
          ];
          return Number(score) >= written ? true : undefined;
        });
        assert.equal(
          await pidOf(behind),
          behindPid,
          `the held-back Redis on host ${behind} was restarted before the primary's host went off`,
        );
        // The primary's host dies with its Redis and its agent: no demote, no goodbye.
        await lab.powerOff(primary);
        promoted = await waitFor(
          "a replica to be promoted",
          async () => {
            const next = primaryIn(await stateOn(ahead));
            return next !== undefined && next !== primary ? next : undefined;
          },
          { timeoutMs: 30_000 },
        );
      } finally {
        try {
          process.kill(behindPid, "SIGCONT");
        } catch {
          // Already restarted by Vigil: the stopped process is gone.
        }
      }
      if (promoted !== ahead) {
        assert.fail(
          `host ${promoted} was promoted, not host ${ahead}, whose replica had every write; the state: ${describeCopies(await stateOn(ahead))}; what the agents logged:\n${agentNotes()}`,
        );
      }
      const promotedPid = await pidOf(ahead);
      if (promotedPid !== aheadPid) {
        assert.fail(
          `the promoted Redis on host ${ahead} is not the one that took the writes (pid ${aheadPid}, now ${promotedPid}); what the agents logged:\n${agentNotes()}`,
        );
      }
      assert.equal((await replication(ahead)).role, "master");
      assert.equal((await redis(ahead, ["GET", "key49"])).length, 1000);
      await followers(ahead, [behind]);
      assert.equal((await redis(behind, ["GET", "key49"])).length, 1000);

      // The old primary's host comes back: it rejoins as a replica of the new primary.
      await lab.powerOn(primary);
      await cluster.start(primary);
      await followers(ahead, [behind, primary]);
      await waitFor(`host ${primary} to have the data`, async () =>
        (await redis(primary, ["GET", "key49"])).length === 1000 ? true : undefined,
      );
      assert.equal(await redis(primary, ["GET", "greeting"]), "hello");
      assert.equal(primaryIn(await stateOn(ahead)), ahead);
      assert.equal(primaryIn(await stateOn(primary)), ahead);
    });
  });

  test("kill -9 of the primary's redis-server under a writing client: every write a replica had is kept, the client is served again", async () => {
    await withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
      const vip = vipOf(lab);
      const { view, primary } = await startRedis(lab, { vip });
      const { redis, replication, stateOn, primaryIn, pidOf, agentNotes, followers } = view;
      await waitFor(`the VIP on host ${primary}`, async () =>
        (await lab.host(primary).exec("ip", ["-o", "-4", "addr", "show"])).stdout.includes(
          ` inet ${vip}/`,
        )
          ? true
          : undefined,
      );

      const client = lab.clients[0]!;
      const logPath = join(lab.dir, "writes.log");
      const writer = client.spawn(process.execPath, [WRITER_SCRIPT, vip, String(PORT), logPath]);
      await writer.waitForLine(/^writing /, 10_000);
      let killedAtMs: number;
      try {
        await waitFor(
          "the client's writes to reach the replicas",
          async () =>
            (await readWrites(logPath)).filter((w) => w.ok && w.replicas > 0).length >= 2000
              ? true
              : undefined,
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        // Only the primary's redis-server dies; its node, its agent and the VIP stay.
        const pid = await pidOf(primary);
        const command = (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
        assert.equal(command, "redis-server", `pid ${pid} from host ${primary}'s pid file`);
        process.kill(pid, "SIGKILL");
        // Taken after the kill: a write sent later can only be answered by a successor.
        killedAtMs = nowMs();
        await waitFor(
          "the client to be served again",
          async () =>
            (await readWrites(logPath)).some((w) => w.ok && w.sentMs > killedAtMs)
              ? true
              : undefined,
          { timeoutMs: 30_000, intervalMs: 50 },
        );
        // A little more writing on the new primary, then the writer stops.
        await sleep(1000);
      } finally {
        writer.kill("SIGTERM");
        await writer.exited;
      }
      const writes = await readWrites(logPath);

      const promoted = await waitFor(
        "one primary, running as such",
        async () => {
          const host = primaryIn(await stateOn(primary));
          if (host === undefined) return undefined;
          const role = await replication(host).then(
            (info) => info.role,
            () => undefined,
          );
          return role === "master" ? host : undefined;
        },
        { timeoutMs: 30_000 },
      );
      const kept = new Set(
        (await redis(promoted, ["--scan", "--pattern", "w:*"]))
          .split("\n")
          .filter((key) => key !== ""),
      );
      const replicated = writes.filter((w) => w.ok && w.replicas > 0);
      const replicatedBeforeKill = replicated.filter((w) => w.doneMs < killedAtMs);
      const acknowledged = writes.filter((w) => w.ok);
      const lost = (list: readonly Write[]) => list.filter((w) => !kept.has(`w:${w.n}`));
      const firstServed = acknowledged.find((w) => w.sentMs > killedAtMs)!;
      console.log(
        `kill -9 of redis-server on host ${primary}; host ${promoted} promoted. ` +
          `${acknowledged.length} writes acknowledged, ${lost(acknowledged).length} of them lost; ` +
          `${replicatedBeforeKill.length} had reached a replica before the kill, ` +
          `${lost(replicatedBeforeKill).length} of them lost. ` +
          `The client was served again ${(firstServed.doneMs - killedAtMs).toFixed(0)} ms after the kill.`,
      );
      assert.notEqual(
        promoted,
        primary,
        `the restarted, empty copy was promoted again over replicas with data; what the agents logged:\n${agentNotes()}`,
      );
      assert.ok(replicatedBeforeKill.length >= 2000);
      const gone = lost(replicated).map((w) => w.n);
      assert.equal(
        gone.length,
        0,
        `${gone.length} of ${replicated.length} writes that had reached a replica are gone (first: ${gone.slice(0, 5).join(", ")})`,
      );
      // The old primary's Redis, restarted empty, is now a replica of the new primary.
      const others = HOSTS.filter((host) => host !== promoted);
      await followers(promoted, others);
      const last = replicated.at(-1)!;
      for (const host of others) {
        await waitFor(`host ${host} to have w:${last.n}`, async () =>
          (await redis(host, ["GET", `w:${last.n}`])) === String(last.n) ? true : undefined,
        );
      }
    });
  });
});

/** Skips without Redis (as the loopback test does, even in CI); otherwise the lab's own rule. */
function redisLabOptions(): { skip?: string } {
  try {
    accessSync("/usr/bin/redis-server");
    accessSync("/usr/bin/redis-cli");
  } catch {
    return { skip: "redis-server is not installed (Debian package redis-server)" };
  }
  return labTestOptions(["redis-server", "redis-cli"]);
}
