import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { mkdir, open, writeFile } from "node:fs/promises";
import { dirname, extname, join, resolve as resolvePath } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import type { RawConfig, TimingProfileName } from "../config/schema.js";
import { controlGet, controlPost } from "../control/client.js";
import type { AgentStatus } from "../control/status-reply.js";
import type { SubmitResult } from "../coordination/cluster-message.js";
import { generateKey } from "../keys/keyfile.js";
import type { ClusterState } from "../state/types.js";

const NODE_NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"];
export const LOCAL_LINKS = ["ring0", "ring1"] as const;

export interface LocalClusterOptions {
  nodes: number;
  dir: string;
  profile: TimingProfileName;
  /** Run the compiled agent (dist/, built first) even from sources under tsx: see cliEntry. */
  built?: boolean;
}

/**
 * A real cluster of agent processes on this machine: every node on 127.0.0.1 with its own
 * ports (two ucast links), state directory, control socket and log file. The demo and the
 * loopback tests use it; nothing in it is simulated.
 */
export class LocalCluster {
  readonly names: string[];
  readonly configPath: string;
  private readonly processes = new Map<string, ChildProcess>();

  private constructor(private readonly options: LocalClusterOptions) {
    if (options.nodes < 3 || options.nodes > NODE_NAMES.length) {
      throw new RangeError(
        `a local cluster has 3 to ${NODE_NAMES.length} nodes, not ${options.nodes}`,
      );
    }
    this.names = NODE_NAMES.slice(0, options.nodes);
    this.configPath = join(options.dir, "vigil.yaml");
  }

  static async create(given: LocalClusterOptions): Promise<LocalCluster> {
    // The configuration takes absolute paths only: `vigil demo --dir demo` means ./demo.
    const options = { ...given, dir: resolvePath(given.dir) };
    const cluster = new LocalCluster(options);
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const keyFile = join(options.dir, "authkeys");
    // A --dir reused from an earlier demo keeps its key.
    if (!existsSync(keyFile)) await generateKey(keyFile, {});
    const ports = await freeUdpPorts(options.nodes * LOCAL_LINKS.length);
    const config: RawConfig = {
      cluster: { name: "demo" },
      nodes: cluster.names.map((name, index) => ({
        id: index + 1,
        name,
        links: Object.fromEntries(
          LOCAL_LINKS.map((link, linkIndex) => [
            link,
            { address: "127.0.0.1", port: ports[linkIndex * options.nodes + index] },
          ]),
        ),
      })),
      links: LOCAL_LINKS.map((name) => ({ name, type: "ucast" as const })),
      timing: { profile: options.profile },
      keys: { file: keyFile },
      state_dir: join(options.dir, "state"),
      control: { socket: join(options.dir, "control.sock") },
      // Every node is this machine: a guard that could not stop a resource must not reboot it.
      // Its self-fence is a line in self-fence.log instead (the guard's own log says why).
      watchdog: {
        action: `sh -c 'echo "$(date +%s%3N) self-fence" >> ${join(options.dir, "self-fence.log")}'`,
      },
    };
    await writeFile(cluster.configPath, stringify(config), { mode: 0o600 });
    return cluster;
  }

  socketPath(name: string): string {
    return join(this.options.dir, `${name}.sock`);
  }

  logPath(name: string): string {
    return join(this.options.dir, `${name}.log`);
  }

  isRunning(name: string): boolean {
    return this.processes.has(name);
  }

  /** The process id of the node's agent, while it runs. */
  pid(name: string): number | undefined {
    return this.processes.get(name)?.pid;
  }

  async start(name: string): Promise<ChildProcess> {
    if (this.processes.has(name)) throw new Error(`${name} is already running`);
    const log = await open(this.logPath(name), "a");
    const child = spawn(
      process.execPath,
      agentArguments({
        configPath: this.configPath,
        node: name,
        socketPath: this.socketPath(name),
        stateDir: join(this.options.dir, "state", name),
        built: this.options.built,
      }),
      { stdio: ["ignore", log.fd, log.fd] },
    );
    await log.close();
    this.processes.set(name, child);
    child.once("exit", () => {
      if (this.processes.get(name) === child) this.processes.delete(name);
    });
    return child;
  }

  /** Sends a signal to a node's agent: SIGKILL (crash), SIGTERM (clean stop), SIGSTOP/SIGCONT. */
  async signal(name: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.processes.get(name);
    if (child === undefined) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    if (signal === "SIGKILL" || signal === "SIGTERM") await exited;
  }

  status(name: string): Promise<AgentStatus> {
    return controlGet<AgentStatus>(this.socketPath(name), "/v1/status", 1000);
  }

  /** The replicated cluster state as `name` has applied it. */
  state(name: string): Promise<ClusterState> {
    return controlGet<ClusterState>(this.socketPath(name), "/v1/state", 1000);
  }

  /**
   * Applies a resources document through `name` (`vigil config apply` does the same), retrying
   * while the cluster has no leader yet; gives up after `timeoutMs`.
   */
  async applyResources(name: string, text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const current = await controlGet<{ configurationVersion: number }>(
          this.socketPath(name),
          "/v1/config",
          1000,
        );
        const result = await controlPost<SubmitResult>(this.socketPath(name), "/v1/config", {
          text,
          document: parse(text),
          expectedVersion: current.configurationVersion,
          by: "demo",
        });
        if (result.ok) return;
        last = result.error;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(200);
    }
    throw new Error(`could not apply the resources through ${name}: ${last}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.processes.keys()].map(async (name) => {
        await this.signal(name, "SIGCONT");
        await this.signal(name, "SIGTERM");
      }),
    );
  }
}

/**
 * The CLI entry of this very build: dist/cli/main.js, or src/cli/main.ts under tsx. With
 * `built`, always the compiled one (run `npm run build` first): benchmarks measure the agent
 * as it ships, without the TypeScript loader's memory and start-up time. `built` defaults to
 * VIGIL_BUILT=1 in the environment, which scripts/run-tests.mjs sets once it has built: under
 * tsx every agent, guard and CLI run costs about twice the CPU of the compiled one (1.7 against
 * 0.75 s for `vigil --help`), and on a two-core test machine an agent starting beside a cluster
 * starved the running agents past their leases.
 */
export function cliEntry(options: { built?: boolean } = {}): { entry: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const extension = extname(self);
  const built = options.built ?? process.env.VIGIL_BUILT === "1";
  if (built && extension === ".ts") {
    return { entry: join(dirname(self), "..", "..", "dist", "cli", "main.js"), execArgv: [] };
  }
  return {
    entry: join(dirname(self), "..", "cli", `main${extension}`),
    // Resolved here, not by name: the child may run in another working directory.
    execArgv: extension === ".ts" ? ["--import", import.meta.resolve("tsx")] : [],
  };
}

export interface AgentLaunch {
  configPath: string;
  node: string;
  socketPath: string;
  stateDir: string;
  /** Run the compiled agent (see cliEntry). */
  built?: boolean;
}

/** Node's arguments for `vigil agent` of this build, for everything that starts agents. */
export function agentArguments(launch: AgentLaunch): string[] {
  const { entry, execArgv } = cliEntry({ built: launch.built });
  return [
    ...execArgv,
    entry,
    "agent",
    "--config",
    launch.configPath,
    "--node",
    launch.node,
    "--socket",
    launch.socketPath,
    "--state-dir",
    launch.stateDir,
  ];
}

/** Asks the kernel for free UDP ports on loopback (bound and released at once). */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () => {
      const socket = createSocket("udp4");
      return new Promise<ReturnType<typeof createSocket>>((resolve) =>
        socket.bind(0, "127.0.0.1", () => resolve(socket)),
      );
    }),
  );
  const ports = sockets.map((socket) => socket.address().port);
  await Promise.all(
    sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
  );
  return ports;
}
