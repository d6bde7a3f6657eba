import { join, resolve } from "node:path";
import type { RawConfig } from "../../src/config/schema.js";
import type { Lab, LabHost } from "../lab/index.js";
import { HOSTS, PORT, readWrites, startRedis, type Write } from "./redis-lab.js";
import { waitFor } from "./wait.js";

export const MASTER_NAME = "mymaster";
export const SENTINEL_PORT = 26379;
const IOREDIS_WRITER = resolve("test/support/sentinel-writer.mjs");
const REDIS_PY_WRITER = resolve("test/support/sentinel-writer-py.py");

/**
 * The promotable Redis of redis-lab.ts with the Sentinel protocol on: every agent listens on
 * 26379 and gives each copy's address on link 0 for the master name "mymaster". `extraConfig`:
 * more sections of the cluster file (the API, ...).
 */
export function startSentinelRedis(
  lab: Lab,
  options: { built?: boolean; extraConfig?: Partial<RawConfig> } = {},
) {
  return startRedis(lab, {
    built: options.built,
    extraConfig: {
      ...options.extraConfig,
      sentinel: {
        listen: "0.0.0.0",
        services: { [MASTER_NAME]: { resource: "redis-ha", port: PORT, link: "ring0" } },
      },
    },
  });
}

/**
 * An ioredis and a redis-py writer on `client`, each given only the agents' Sentinel addresses
 * and the master name; returns once both have written. Their logs (named with `tag`) are in
 * readWrites' format.
 */
export async function startSentinelWriters(lab: Lab, client: LabHost, tag = "") {
  const sentinels = HOSTS.map((host) => `${lab.host(host).address(0)}:${SENTINEL_PORT}`);
  const logs = {
    ioredis: join(lab.dir, `ioredis-writes${tag}.log`),
    "redis-py": join(lab.dir, `redis-py-writes${tag}.log`),
  };
  const writers = [
    client.spawn(process.execPath, [IOREDIS_WRITER, MASTER_NAME, logs.ioredis, ...sentinels]),
    client.spawn("/usr/bin/python3", [
      REDIS_PY_WRITER,
      MASTER_NAME,
      logs["redis-py"],
      ...sentinels,
    ]),
  ];
  const stop = async () => {
    for (const writer of writers) writer.kill("SIGTERM");
    await Promise.all(writers.map((writer) => writer.exited));
  };
  try {
    for (const [name, log] of Object.entries(logs))
      await waitFor(`${name} to write`, async () =>
        (await readWrites(log)).some((w) => w.ok) ? true : undefined,
      );
  } catch (error) {
    await stop();
    const output = writers.map((w) => `${w.stdout}${w.stderr}`).join("\n");
    throw new Error(`${(error as Error).message}; the writers said:\n${output}`);
  }
  return { logs, stop };
}

/**
 * How long a writer went unserved across a power-off at `offMs`: from its last write answered
 * before it to its first write sent after it and answered (by the new primary); null if none was.
 */
export function writerOutageMs(writes: readonly Write[], offMs: number): number | null {
  const before = writes.filter((w) => w.ok && w.doneMs < offMs).at(-1);
  const after = writes.find((w) => w.ok && w.sentMs > offMs);
  return before === undefined || after === undefined ? null : after.doneMs - before.doneMs;
}
