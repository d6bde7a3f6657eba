import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import type { RawConfig } from "../../src/config/schema.js";
import { controlGet } from "../../src/control/client.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { agentArguments, freeUdpPorts } from "../../src/demo/local-cluster.js";
import { generateKey } from "../../src/keys/keyfile.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const NAMES = ["alpha", "beta"] as const;

/** Two agents whose only link is a serial line: a socat pty pair standing in for a null-modem cable. */
describe("serial link over a socat pty pair", () => {
  let dir: string;
  let socat: ChildProcess | undefined;
  const agents = new Map<string, ChildProcess>();

  const status = (name: string) =>
    controlGet<AgentStatus>(join(dir, `${name}.sock`), "/v1/status", 1000);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-serial-"));
    const [a, b] = [join(dir, "ttyA"), join(dir, "ttyB")];
    socat = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: "ignore",
    });
    await waitFor("socat's pty pair", () => (existsSync(a) && existsSync(b) ? true : undefined));
    const [lanPort] = await freeUdpPorts(1);
    if (lanPort === undefined) throw new Error("no free UDP port");
    const keyFile = join(dir, "authkeys");
    await generateKey(keyFile, {});
    const config: RawConfig = {
      cluster: { name: "serial-test" },
      nodes: [
        // beta shares only the serial line with alpha: nothing else can keep it alive.
        {
          id: 1,
          name: "alpha",
          links: { serial0: { device: a }, lan: { address: "127.0.0.1", port: lanPort } },
        },
        { id: 2, name: "beta", links: { serial0: { device: b } } },
        // The witness a two-node cluster needs; not started, it plays no part in this test.
        {
          id: 3,
          name: "gamma",
          witness: true,
          links: { lan: { address: "127.0.0.1", port: lanPort + 1 } },
        },
      ],
      links: [
        { name: "serial0", type: "serial", baud: 115200 },
        { name: "lan", type: "ucast" },
      ],
      keys: { file: keyFile },
      state_dir: join(dir, "state"),
    };
    const configPath = join(dir, "vigil.yaml");
    await writeFile(configPath, stringify(config), { mode: 0o600 });
    for (const name of NAMES) {
      const child = spawn(
        process.execPath,
        agentArguments({
          configPath,
          node: name,
          socketPath: join(dir, `${name}.sock`),
          stateDir: join(dir, "state", name),
        }),
        { stdio: "ignore" },
      );
      agents.set(name, child);
    }
  });

  after(async () => {
    for (const child of agents.values()) child.kill("SIGKILL");
    socat?.kill("SIGKILL");
    await removeTestDir(dir);
  });

  test("heartbeats cross the line both ways, with RTT measured", async () => {
    for (const [self, other] of [NAMES, [...NAMES].reverse()] as const) {
      const seen = await waitFor(`${self} to see ${other} up over serial0`, async () => {
        const s = await status(self);
        const peer = s.nodes.find((node) => node.name === other);
        return peer?.state === "up" && peer.links[0]?.rttMs !== null ? s : undefined;
      });
      assert.equal(seen.links[0]?.kind, "serial");
      assert.equal(seen.links[0]?.counters.framingErrors, 0);
      assert.ok((seen.links[0]?.counters.framesReceived ?? 0) > 0);
    }
  });

  test("the line going dead (socat killed) takes the peer down", async () => {
    socat?.kill("SIGKILL");
    const s = await waitFor("alpha to declare beta dead", async () => {
      const current = await status("alpha");
      return current.nodes[0]?.state === "dead" ? current : undefined;
    });
    assert.equal(s.nodes[0]?.links[0]?.state, "down");
  });
});
