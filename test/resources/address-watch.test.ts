import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../src/log/logger.js";
import { AddressWatch } from "../../src/resources/agents/vip/address-watch.js";

test("a watch whose command cannot run (ip missing) is tried again ever more slowly, up to a minute, warning once", async () => {
  const output = new PassThrough();
  const lines: string[] = [];
  output.on("data", (chunk: Buffer) => lines.push(...chunk.toString().trim().split("\n")));
  const delays: number[] = [];
  let restart: (() => void) | null = null;
  const watch = new AddressWatch({
    logger: createLogger({ level: "debug", pretty: false, destination: output }),
    timers: {
      after(delayMs, callback) {
        delays.push(delayMs);
        restart = callback;
        return () => {
          restart = null;
        };
      },
    },
    onRemoved: () => assert.fail("nothing was removed"),
    command: ["/nonexistent/ip", "-o", "monitor", "address"],
  });
  watch.start();
  for (let tries = 0; tries < 8; tries++) {
    await new Promise<void>((resolve) => {
      const wait = setInterval(() => {
        if (restart === null) return;
        clearInterval(wait);
        resolve();
      }, 5);
    });
    const next: () => void = restart as unknown as () => void;
    restart = null;
    if (tries < 7) next();
  }
  watch.stop();
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level >= 40);
  assert.deepEqual(
    warnings.map((entry) => entry.msg),
    [
      "cannot watch address changes (ip monitor); VIPs are checked by their monitors only",
      "ip monitor ended; watching address changes again shortly",
    ],
  );
});
