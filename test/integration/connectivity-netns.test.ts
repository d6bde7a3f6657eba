/**
 * The connectivity monitor across test hosts: a ConnectivityMonitor with the real probes runs in
 * a lab host's namespace against a lab client (ICMP, TCP and HTTP on 198.18.0.101); cutting the
 * host's link (nft netdev drop) takes the count to 0, healing it brings it back.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type LabProcess, labTestOptions, withLab } from "../lab/index.js";
import { waitFor } from "../support/wait.js";

const MONITOR = fileURLToPath(new URL("../connectivity/fixtures/run-monitor.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PORT = 8080;
const HOST = 0;
const CLIENT = 1;

/** Answers every TCP connection (HTTP 200 to requests) on the client. */
const UPSTREAM = `
const server = require("node:http").createServer((_req, res) => res.end("ok"));
server.listen(${PORT}, "0.0.0.0", () => console.log("listening"));
`;

/** Waits for a publish of `value` in a round after `afterRound`; returns that round. */
async function waitForValue(
  monitor: LabProcess,
  value: string,
  afterRound: number,
): Promise<number> {
  return waitFor(
    `connectivity=${value} after round ${afterRound}`,
    () => {
      if (!monitor.running) throw new Error(`monitor exited: ${monitor.stderr}`);
      for (const match of monitor.stdout.matchAll(/^round (\d+) connectivity=(\d+)$/gm)) {
        const round = Number(match[1]);
        if (round > afterRound && match[2] === value) return round;
      }
      return undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

interface ChangeLine {
  msg: string;
  up: string[];
  down: string[];
}

/**
 * Waits until the monitor's change log lines from index `from` on have named every one of
 * `names` as `field` (a change may be spread over rounds); returns the number of lines seen.
 */
async function waitForChanges(
  monitor: LabProcess,
  from: number,
  field: "up" | "down",
  names: readonly string[],
): Promise<number> {
  return waitFor(
    `${names.join(", ")} logged as ${field}`,
    () => {
      const lines = monitor.stderr
        .split("\n")
        .filter((line) => line.includes('"connectivity '))
        .map((line) => JSON.parse(line) as ChangeLine);
      const named = new Set(lines.slice(from).flatMap((line) => line[field]));
      return names.every((name) => named.has(name)) ? lines.length : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

describe("connectivity across test hosts", labTestOptions(["ping"]), () => {
  test("icmp, tcp and http targets on a client: reachable, cut off, healed", async () => {
    await withLab({ hosts: 1, links: 1, clients: 1 }, async (lab) => {
      const client = lab.host(CLIENT);
      const address = client.address(0);
      const upstream = client.spawn(process.execPath, ["-e", UPSTREAM]);
      await upstream.waitForLine(/listening/, 10_000);

      const config = {
        targets: [
          { icmp: address },
          { tcp: `${address}:${PORT}` },
          { http: `http://${address}:${PORT}/` },
        ],
        interval_ms: 200,
        timeout_ms: 500,
      };
      const monitor = lab
        .host(HOST)
        .spawn(process.execPath, ["--import", "tsx", MONITOR, JSON.stringify(config)], {
          cwd: REPO_ROOT,
        });

      const names = [`icmp:${address}`, `tcp:${address}:${PORT}`, `http://${address}:${PORT}/`];
      const reachable = await waitForValue(monitor, "3", 0);
      const logged = await waitForChanges(monitor, 0, "up", names);

      await lab.cutLink(HOST, 0);
      const cut = await waitForValue(monitor, "0", reachable);
      const loggedDown = await waitForChanges(monitor, logged, "down", names);

      await lab.healLink(HOST, 0);
      await waitForValue(monitor, "3", cut);
      await waitForChanges(monitor, loggedDown, "up", names);

      monitor.kill();
      assert.deepEqual(await monitor.exited, { code: 0, signal: null });
    });
  });
});
