import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { TIMING_PROFILES, type TimingProfileName } from "../../config/schema.js";
import { type Observation, renderDemo } from "../../demo/demo-view.js";
import { LocalCluster } from "../../demo/local-cluster.js";
import { UsageError } from "../errors.js";

export interface DemoOptions {
  nodes: string;
  dir?: string;
  profile: string;
}

/** Shipped with Vigil: a do-nothing exec agent whose "process" is a marker file per node. */
const MARKER_AGENT = fileURLToPath(new URL("../../../examples/agents/marker", import.meta.url));

const HELP_TTY = "keys: 1-9 kill -9 / restart that node · p then 1-9 pause / resume it · q quit";
const HELP_LINES =
  'commands on stdin: "kill N", "start N", "stop N" (SIGTERM), "pause N", "resume N", "status", "quit"';

/**
 * `vigil demo`: a real cluster of agents on loopback, its live membership on screen, and keys to
 * crash, restart and pause nodes. Without a terminal it reads commands line by line from stdin,
 * so it can be scripted (the tests drive it that way).
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const nodes = Number(options.nodes);
  if (!Number.isInteger(nodes) || nodes < 3 || nodes > 9)
    throw new UsageError(`--nodes takes 3 to 9 (two nodes need a witness), got "${options.nodes}"`);
  if (!(options.profile in TIMING_PROFILES))
    throw new UsageError(`--profile takes default or fast, got "${options.profile}"`);
  const profile = options.profile as TimingProfileName;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "vigil-demo-")));
  const cluster = await LocalCluster.create({ nodes, dir, profile });
  const paused = new Set<string>();
  for (const name of cluster.names) await cluster.start(name);
  // One service, so a kill shows a takeover too; applied once a leader is there.
  const demoService = [
    "resources:",
    `  demo-service: { agent: "exec:${MARKER_AGENT}", params: { statedir: "${dir}" }, operations: { monitor: { interval_ms: 1000, timeout_ms: 5000 } } }`,
    "",
  ].join("\n");
  void cluster
    .applyResources(cluster.names[0]!, demoService)
    .catch((error: Error) => process.stderr.write(`demo service not applied: ${error.message}\n`));

  const timing = TIMING_PROFILES[profile];
  const header = `Vigil demo: ${nodes} agents on 127.0.0.1, two links each (ring0, ring1), profile ${profile} (keepalive ${timing.keepalive_ms} ms, deadtime ${timing.deadtime_ms} ms)\nfiles: ${dir}\n${process.stdin.isTTY ? HELP_TTY : HELP_LINES}`;
  const observe = async (): Promise<Observation[]> =>
    Promise.all(
      cluster.names.map(async (name) => {
        const reachable = cluster.isRunning(name) && !paused.has(name);
        return {
          name,
          running: cluster.isRunning(name),
          paused: paused.has(name),
          status: reachable ? await cluster.status(name).catch(() => null) : null,
          resources: reachable
            ? await cluster
                .state(name)
                .then((state) => state.resources)
                .catch(() => null)
            : null,
        };
      }),
    );
  const nodeName = (token: string | undefined) => {
    const name = cluster.names[Number(token) - 1];
    if (name === undefined)
      process.stdout.write(`no node ${token}: nodes are 1-${cluster.names.length}\n`);
    return name;
  };
  const toggleRunning = async (name: string) => {
    if (cluster.isRunning(name)) {
      paused.delete(name);
      await cluster.signal(name, "SIGKILL");
    } else {
      await cluster.start(name);
    }
  };
  const togglePaused = async (name: string) => {
    if (paused.delete(name)) await cluster.signal(name, "SIGCONT");
    else if (cluster.isRunning(name)) {
      paused.add(name);
      await cluster.signal(name, "SIGSTOP");
    }
  };

  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const quit = () => finished();
  process.once("SIGINT", quit);
  process.once("SIGTERM", quit);

  if (process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.setEncoding("utf8");
    let pauseNext = false;
    process.stdin.on("data", (key: string) => {
      if (key === "q" || key === "\u0003") return quit();
      if (key === "p") {
        pauseNext = true;
        return;
      }
      const name = cluster.names[Number(key) - 1];
      if (name !== undefined) void (pauseNext ? togglePaused(name) : toggleRunning(name));
      pauseNext = false;
    });
    const timer = setInterval(async () => {
      const text = renderDemo(await observe(), { colour: true, header });
      process.stdout.write(`\x1b[2J\x1b[H${text}\n`);
    }, 250);
    await done;
    clearInterval(timer);
    process.stdin.setRawMode(false);
  } else {
    process.stdout.write(`${header}\n`);
    const lines = createInterface({ input: process.stdin });
    lines.on("line", async (line) => {
      const [command, argument] = line.trim().split(/\s+/);
      const name =
        command === "status" || command === "quit" || command === ""
          ? undefined
          : nodeName(argument);
      if (command === "quit") return quit();
      if (command === "status") {
        process.stdout.write(
          `${renderDemo(await observe(), { colour: false, header: "--- status" })}\n--- end\n`,
        );
        return;
      }
      if (name === undefined) return;
      if (command === "kill" && cluster.isRunning(name)) await cluster.signal(name, "SIGKILL");
      else if (command === "start" && !cluster.isRunning(name)) await cluster.start(name);
      else if (command === "stop") await cluster.signal(name, "SIGTERM");
      else if (command === "pause" && !paused.has(name)) await togglePaused(name);
      else if (command === "resume" && paused.has(name)) await togglePaused(name);
      else if (!["kill", "start", "stop", "pause", "resume"].includes(command ?? "")) {
        process.stdout.write(`unknown command "${line.trim()}"; ${HELP_LINES}\n`);
        return;
      }
      process.stdout.write(`ok ${command} ${name}\n`);
    });
    lines.once("close", quit);
    await done;
    lines.close();
  }
  await cluster.stopAll();
  process.stdout.write(`demo stopped; config, keys and logs are in ${dir}\n`);
}
