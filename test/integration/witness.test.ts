import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import type { RawConfig } from "../../src/config/schema.js";
import { controlGet, controlPost } from "../../src/control/client.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { agentArguments, cliEntry, freeUdpPorts } from "../../src/demo/local-cluster.js";
import { generateKey } from "../../src/keys/keyfile.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

/** Sends junk to a UDP port on loopback until its receive queue surely overflows. */
async function fillReceiveQueue(port: number): Promise<void> {
  const socket = createSocket("udp4");
  const junk = Buffer.alloc(1200, 0x5a);
  try {
    for (let sent = 0; sent < 4000; sent++) {
      await new Promise<void>((resolve, reject) =>
        socket.send(junk, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())),
      );
    }
  } finally {
    socket.close();
  }
}

/** A two-node cluster with `vigil witness` as the third vote, all on loopback. */
describe("two nodes and a witness", () => {
  let dir: string;
  let ports: number[];
  const processes = new Map<string, ChildProcess>();
  const socket = (name: string) =>
    name === "quorum" ? join(dir, "witness-pair.sock") : join(dir, `${name}.sock`);
  const coordination = async (name: string) => {
    const status = await controlGet<AgentStatus>(socket(name), "/v1/status", 1000);
    if (status.coordination === null) throw new Error("no coordination yet");
    return status.coordination;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-witness-"));
    ports = await freeUdpPorts(3);
    const keyFile = join(dir, "authkeys");
    await generateKey(keyFile, {});
    const names = ["alpha", "beta", "quorum"];
    const config: RawConfig = {
      cluster: { name: "pair" },
      nodes: names.map((name, index) => ({
        id: index + 1,
        name,
        witness: name === "quorum",
        links: { lan: { address: "127.0.0.1", port: ports[index] } },
      })),
      links: [{ name: "lan", type: "ucast" }],
      keys: { file: keyFile },
      state_dir: join(dir, "state"),
      control: { socket: join(dir, "control.sock") },
    };
    const configPath = join(dir, "vigil.yaml");
    await writeFile(configPath, stringify(config), { mode: 0o600 });
    for (const name of ["alpha", "beta"]) {
      processes.set(
        name,
        spawn(
          process.execPath,
          agentArguments({
            configPath,
            node: name,
            socketPath: socket(name),
            stateDir: join(dir, "state", name),
          }),
          { stdio: "ignore" },
        ),
      );
    }
    const { entry, execArgv } = cliEntry();
    processes.set(
      "quorum",
      spawn(process.execPath, [...execArgv, entry, "witness", "--config", configPath], {
        stdio: "ignore",
      }),
    );
  });

  after(async () => {
    for (const child of processes.values()) child.kill("SIGKILL");
    await removeTestDir(dir);
  });

  test("the witness votes but never leads; the leader dies with writes only the witness holds, and the survivor leads with every acknowledged one", async () => {
    const leaderId = await waitFor("a leader among alpha and beta", async () => {
      const views = await Promise.all(["alpha", "beta", "quorum"].map(coordination));
      const leaders = views.filter((view) => view.role === "leader");
      return leaders.length === 1 && views.every((v) => v.leaderId === leaders[0]!.id)
        ? leaders[0]!.id
        : undefined;
    });
    assert.notEqual(leaderId, 3, "the witness never leads");
    const witness = await coordination("quorum");
    assert.equal(witness.role, "follower");

    const victim = leaderId === 1 ? "alpha" : "beta";
    const survivor = leaderId === 1 ? "beta" : "alpha";
    // The survivor is paused, its socket's receive queue full of junk, while the leader commits
    // writes with the witness alone, and the leader dies: what it sent the survivor meanwhile is
    // lost, only the witness can hand those writes on, and the witness refuses to elect a log
    // behind its own.
    processes.get(survivor)?.kill("SIGSTOP");
    await fillReceiveQueue(ports[survivor === "alpha" ? 0 : 1]!);
    let acknowledged = 0;
    let writing = true;
    const writer = (async () => {
      for (let value = 1; writing; value++) {
        const write = { node: victim, key: "written", value: String(value), lifetime: "forever" };
        try {
          await controlPost(socket(victim), "/v1/attributes", write, 2000);
          acknowledged = value;
        } catch {
          return;
        }
      }
    })();
    await waitFor("a few writes acknowledged", () => (acknowledged >= 5 ? true : undefined));
    processes.get(victim)?.kill("SIGKILL");
    writing = false;
    await writer;
    processes.get(survivor)?.kill("SIGCONT");
    const lastAcknowledged = acknowledged;
    const view = await waitFor(`${survivor} to lead with the witness's vote`, async () => {
      const c = await coordination(survivor);
      return c.role === "leader" && c.votesPresent >= c.votesNeeded && c.leaseUntilMs !== null
        ? c
        : undefined;
    });
    assert.equal(view.votesNeeded, 2);
    assert.ok(view.leaseUntilMs !== null, "the survivor holds a lease backed by the witness");
    const query = `/v1/attributes?node=${victim}&key=written&lifetime=forever`;
    const { value } = await controlGet<{ value: string | null }>(socket(survivor), query);
    assert.ok(
      Number(value) >= lastAcknowledged,
      `write ${lastAcknowledged} was acknowledged; the survivor holds ${value}`,
    );
  });
});
