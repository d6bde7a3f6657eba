import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { controlGet } from "../../src/control/client.js";
import { cliEntry, freeUdpPorts, LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { removeTestDir } from "./remove-dir.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);
const ECHO_SERVICE = resolve("test/fixtures/agents/echo-service");

/** Runs the `vigil` CLI (sources under tsx) and returns its exit code and output. */
export async function runLocalVigil(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { entry, execArgv } = cliEntry();
  try {
    const { stdout, stderr } = await run(process.execPath, [...execArgv, entry, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Asks the echo service on 127.0.0.1:port who serves it; undefined while nobody does. */
export function whoServes(port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    socket.setTimeout(500, () => socket.destroy());
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    socket.on("close", () => done(answer.trim() === "" ? undefined : answer.trim()));
    socket.on("error", () => done(undefined));
  });
}

/**
 * Three agents on loopback in a fresh directory, a free port for a service, and every node's
 * probe recorded: ready for a resources document.
 */
export async function startProbedCluster(
  prefix: string,
  options: { built?: boolean } = {},
): Promise<{ dir: string; port: number; cluster: LocalCluster }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const [port] = (await freeUdpPorts(1)) as [number];
  const cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default", ...options });
  for (const name of cluster.names) await cluster.start(name);
  await waitFor("every node to have probed", async () => {
    const state = await controlGet<ClusterState>(cluster.socketPath("alpha"), "/v1/state");
    return cluster.names.every((name) => state.agents[name] !== undefined) ? true : undefined;
  });
  return { dir, port, cluster };
}

/**
 * Stops the agents of startProbedCluster, then the echo services they leave behind (each runs in
 * its own session, so it outlives a killed agent), and removes the directory.
 */
export async function stopProbedCluster(dir: string, cluster: LocalCluster | undefined) {
  await cluster?.stopAll();
  for (const name of cluster?.names ?? []) {
    const pid = Number(await readFile(join(dir, `echo.${name}.pid`), "utf8").catch(() => "0"));
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
  // A node guard may still be finishing a stop, writing into the directory: retry the removal.
  await removeTestDir(dir);
}

/**
 * The YAML lines of the resource "echo" (under `resources:`): test/fixtures/agents/echo-service
 * on 127.0.0.1:port, monitored every 200 ms; `more` is appended to its parameters.
 */
export function echoResourceLines(dir: string, port: number, more = ""): string[] {
  return [
    "  echo:",
    `    agent: exec:${ECHO_SERVICE}`,
    `    params: { port: "${port}", bind: 127.0.0.1, statedir: ${dir}${more} }`,
    "    operations: { monitor: { interval_ms: 200, timeout_ms: 5000 } }",
  ];
}

/**
 * Applies the one-resource document "echo" (test/fixtures/agents/echo-service on 127.0.0.1:port,
 * monitored every 200 ms) through the agent at `socket`; returns the CLI's result.
 */
export async function applyEchoService(
  dir: string,
  port: number,
  socket: string,
  options: { stopHangFile?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const hang =
    options.stopHangFile === undefined ? "" : `, stop_hang_file: ${options.stopHangFile}`;
  const file = join(dir, "resources.yaml");
  await writeFile(file, ["resources:", ...echoResourceLines(dir, port, hang), ""].join("\n"));
  return runLocalVigil("config", "apply", file, "--socket", socket);
}
