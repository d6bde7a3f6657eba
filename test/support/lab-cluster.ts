import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import type { DetectorConfig, RawConfig, TimingProfileName } from "../../src/config/schema.js";
import { controlGet } from "../../src/control/client.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { agentArguments } from "../../src/demo/local-cluster.js";
import { generateKey } from "../../src/keys/keyfile.js";
import type { NodeStatus } from "../../src/membership/types.js";
import type { ClusterState } from "../../src/state/types.js";
import type { Lab, LabProcess } from "../lab/index.js";
import { waitFor } from "./wait.js";

export type LabLinkType = "ucast" | "mcast" | "bcast";

export interface LabClusterOptions {
  /** One entry per lab link: the Vigil link type run over it. Default: ucast on every link. */
  linkTypes?: readonly LabLinkType[];
  profile?: TimingProfileName;
  detector?: DetectorConfig;
  encrypt?: boolean;
  /** Run the compiled agent (dist/) instead of the sources under tsx. */
  built?: boolean;
  /** More configuration sections (fencing, watchdog, no_quorum_policy, ...), as in the YAML. */
  extraConfig?: Partial<RawConfig>;
}

const MCAST_GROUP_BASE = "239.255.77.";
/** The node guard's self-fence on a lab host: links down, every process of the host killed. */
export const SELF_FENCE_LAB = resolve("test/fixtures/fence/self_fence_lab");
const SELF_FENCE_LOG = "self-fence.log";

/**
 * A Vigil cluster on a lab: one agent per lab host (named h1, h2, ...), the lab's links as Vigil
 * links, state and control sockets in the lab's directory (unix sockets work across network
 * namespaces, so the test talks to every agent from outside).
 */
export class LabCluster {
  private readonly agents = new Map<number, LabProcess>();
  readonly configPath: string;

  private constructor(
    readonly lab: Lab,
    private readonly options: LabClusterOptions,
  ) {
    this.configPath = join(lab.dir, "vigil.yaml");
  }

  static async create(lab: Lab, options: LabClusterOptions = {}): Promise<LabCluster> {
    const cluster = new LabCluster(lab, options);
    const keyFile = join(lab.dir, "authkeys");
    await generateKey(keyFile, {});
    const linkTypes =
      options.linkTypes ?? Array.from({ length: lab.linkCount }, () => "ucast" as const);
    const config: RawConfig = {
      cluster: { name: `lab-${lab.id}` },
      nodes: lab.hosts.map((_, host) => ({
        id: host + 1,
        name: cluster.name(host),
        links: Object.fromEntries(
          linkTypes.map((type, link) => [
            `ring${link}`,
            type === "bcast"
              ? { interface: lab.host(host).device(link) }
              : { address: lab.host(host).address(link) },
          ]),
        ),
      })),
      links: linkTypes.map((type, link) =>
        type === "mcast"
          ? { name: `ring${link}`, type, group: `${MCAST_GROUP_BASE}${link + 1}` }
          : { name: `ring${link}`, type },
      ),
      timing: { profile: options.profile ?? "default" },
      detector: options.detector ?? { type: "fixed" },
      keys: { file: keyFile, encrypt: options.encrypt ?? false },
      state_dir: join(lab.dir, "state"),
      control: { socket: join(lab.dir, "control.sock") },
      log: { level: (process.env.VIGIL_LAB_LOG_LEVEL ?? "info") as "info" },
      // The node guard's self-fence powers the test host off (never the machine the lab runs
      // on), logged in self-fence.log: see selfFences().
      watchdog: { action: `${SELF_FENCE_LAB} ${join(lab.dir, SELF_FENCE_LOG)}` },
      ...options.extraConfig,
    };
    await writeFile(cluster.configPath, stringify(config), { mode: 0o600 });
    return cluster;
  }

  name(host: number): string {
    return `h${host + 1}`;
  }

  /** The hosts that fenced themselves so far (the guard's action, logged): namespace and when. */
  async selfFences(): Promise<Array<{ ns: string; atMs: number }>> {
    const log = await readFile(join(this.lab.dir, SELF_FENCE_LOG), "utf8").catch(() => "");
    return log
      .split("\n")
      .filter((line) => line.includes(" self-fence "))
      .map((line) => {
        const [atMs, , ns] = line.split(" ");
        return { ns: ns ?? "", atMs: Number(atMs) };
      });
  }

  socketPath(host: number): string {
    return join(this.lab.dir, `${this.name(host)}.sock`);
  }

  agent(host: number): LabProcess | undefined {
    const agent = this.agents.get(host);
    return agent?.running ? agent : undefined;
  }

  async start(host: number): Promise<LabProcess> {
    if (this.agent(host) !== undefined) throw new Error(`agent on host ${host} is running`);
    const stateDir = join(this.lab.dir, "state", this.name(host));
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const agent = this.lab.host(host).spawn(
      process.execPath,
      agentArguments({
        configPath: this.configPath,
        node: this.name(host),
        socketPath: this.socketPath(host),
        stateDir,
        built: this.options.built,
      }),
    );
    this.agents.set(host, agent);
    return agent;
  }

  async startAll(): Promise<void> {
    for (let host = 0; host < this.lab.hosts.length; host++) await this.start(host);
  }

  async status(host: number, timeoutMs = 1000): Promise<AgentStatus> {
    try {
      return await controlGet<AgentStatus>(this.socketPath(host), "/v1/status", timeoutMs);
    } catch (error) {
      const report = this.agents.get(host)?.exitReport();
      if (report === null || report === undefined) throw error;
      throw new Error(`${(error as Error).message}; ${report}`);
    }
  }

  /** What `observer` thinks of `host`. */
  async peer(observer: number, host: number): Promise<NodeStatus> {
    const status = await this.status(observer);
    const peer = status.nodes.find((node) => node.id === host + 1);
    if (peer === undefined) throw new Error(`${this.name(observer)} has no peer ${host + 1}`);
    return peer;
  }

  /** Waits until what `observer` reports satisfies `check`; returns that status. */
  waitUntil(
    observer: number,
    what: string,
    check: (status: AgentStatus) => boolean,
    timeoutMs = 20_000,
  ): Promise<AgentStatus> {
    return waitFor(
      `${this.name(observer)} to report ${what}`,
      async () => {
        const status = await this.status(observer);
        return check(status) ? status : undefined;
      },
      { timeoutMs },
    );
  }

  /** Waits until every running agent sees every other host up on every link. */
  /** The replicated state as `host`'s agent applied it. */
  state(host: number): Promise<ClusterState> {
    return controlGet<ClusterState>(this.socketPath(host), "/v1/state");
  }

  /** Starts every agent and waits until all see each other and each has probed (a resource document may then be applied). */
  async startAllProbed(timeoutMs = 60_000): Promise<void> {
    await this.startAll();
    await this.waitAllUp();
    await waitFor(
      "every node to have probed",
      async () => {
        const state = await this.state(0);
        return this.lab.hosts.every((_, host) => state.agents[this.name(host)] !== undefined)
          ? true
          : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  async waitAllUp(hosts: readonly number[] = this.lab.hosts.map((_, i) => i)): Promise<void> {
    const ids = new Set(hosts.map((host) => host + 1));
    for (const observer of hosts) {
      await this.waitUntil(observer, "all peers up on every link", (status) =>
        status.nodes
          .filter((node) => ids.has(node.id))
          .every((node) => node.state === "up" && node.links.every((l) => l.state === "up")),
      );
    }
  }
}

export function peerOf(status: AgentStatus, host: number): NodeStatus | undefined {
  return status.nodes.find((node) => node.id === host + 1);
}
