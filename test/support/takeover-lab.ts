/**
 * Takeover on test hosts (network namespaces): a service group [virtual IP, echo service], a
 * client that keeps asking the VIP who serves it, and watchers that prove the VIP and the service
 * never ran on two hosts at once. Shared by test/integration/takeover-netns.test.ts and
 * bench/failover.ts.
 *
 * Clocks: every namespace shares the host's clock, so the prober's, the watchers' and the echo
 * service's timestamps (wall-clock epoch ms) compare directly with each other and with nowMs().
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { TimingProfileName } from "../../src/config/schema.js";
import { controlGet } from "../../src/control/client.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { cliEntry } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import type { Lab, LabHost, LabProcess } from "../lab/index.js";
import { LabCluster, type LabClusterOptions } from "./lab-cluster.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));

export const ECHO_SERVICE = resolve(here, "../fixtures/agents/echo-service");
const PROBER_SCRIPT = resolve(here, "vip-prober.mjs");
/** Debian's resource-agents package; the IPaddr2 variant needs it. */
export const IPADDR2_PATH = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2";

export const GROUP = "service";
export const IP_RESOURCE = "service-ip";
export const ECHO_RESOURCE = "service-echo";
export const SERVICE_MEMBERS = [IP_RESOURCE, ECHO_RESOURCE] as const;
export const SERVICE_PORT = 7070;
/** Hosts take .1–.100 of link 0's /24 and clients .101–.200 (test/lab/names.ts): .250 is free. */
const VIP_LAST_OCTET = 250;
export const VIP_PREFIX_LENGTH = 24;

/** The same clock as the agents, the prober and the watchers: wall-clock epoch ms, sub-ms. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** An unused address on lab link 0's subnet (198.18.0.0/24), where the clients are. */
export function vipOf(lab: Lab): string {
  const [network] = lab.subnet(0).split("/");
  const octets = network!.split(".");
  octets[3] = String(VIP_LAST_OCTET);
  return octets.join(".");
}

// ---------------------------------------------------------------------------------------------
// The resource document

export interface ServiceOptions {
  vip: string;
  /** Where the echo service logs its starts and stops (events.log) and keeps its pid files. */
  statedir: string;
  /** The built-in `vip` agent (default) or Debian's ocf:heartbeat:IPaddr2. */
  vipAgent?: "vip" | "IPaddr2";
  /** Lab device of link 0 inside every host. */
  interface?: string;
  port?: number;
  /** Monitor interval of both members (default 200 ms). */
  monitorIntervalMs?: number;
  /** Group meta. */
  autoFailback?: boolean;
  stickiness?: number;
  /** A location constraint on the group. */
  prefer?: { node: string; score: number | "INFINITY" };
  /** While this file exists, the echo service's stop hangs (a service that will not stop). */
  echoStopHangFile?: string;
  /** The document's `hooks` section (docs/resources.md). */
  hooks?: Record<string, unknown>;
}

/** The cluster configuration document: group "service" = [service-ip, service-echo]. */
export function serviceDocument(options: ServiceOptions): Record<string, unknown> {
  const monitor = { interval_ms: options.monitorIntervalMs ?? 200, timeout_ms: 5000 };
  const nic = options.interface ?? "eth0";
  const ip =
    options.vipAgent === "IPaddr2"
      ? {
          agent: "ocf:heartbeat:IPaddr2",
          params: { ip: options.vip, cidr_netmask: String(VIP_PREFIX_LENGTH), nic },
          operations: { monitor },
        }
      : {
          agent: "vip",
          params: { address: `${options.vip}/${VIP_PREFIX_LENGTH}`, interface: nic },
          operations: { monitor },
        };
  const meta: Record<string, unknown> = {};
  if (options.autoFailback !== undefined) meta.auto_failback = options.autoFailback;
  if (options.stickiness !== undefined) meta.stickiness = options.stickiness;
  return {
    resources: {
      [IP_RESOURCE]: ip,
      [ECHO_RESOURCE]: {
        agent: `exec:${ECHO_SERVICE}`,
        params: {
          port: String(options.port ?? SERVICE_PORT),
          bind: options.vip,
          statedir: options.statedir,
          ...(options.echoStopHangFile === undefined
            ? {}
            : { stop_hang_file: options.echoStopHangFile }),
        },
        operations: { monitor },
      },
    },
    groups: { [GROUP]: { members: [...SERVICE_MEMBERS], meta } },
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    constraints:
      options.prefer === undefined
        ? []
        : [
            {
              location: { resource: GROUP, node: options.prefer.node, score: options.prefer.score },
            },
          ],
  };
}

/** Runs the `vigil` CLI of this build (compiled with `built`); throws with its output on failure. */
export async function runVigil(
  args: readonly string[],
  options: { built?: boolean } = {},
): Promise<string> {
  const { entry, execArgv } = cliEntry({ built: options.built });
  try {
    const { stdout } = await run(process.execPath, [...execArgv, entry, ...args]);
    return stdout;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(
      `vigil ${args.join(" ")} failed (exit ${e.code}): ${e.stderr ?? ""}${e.stdout ?? ""}`,
    );
  }
}

let applied = 0;

/** `vigil config apply FILE --socket SOCK` against the agent on `host`. */
export async function applyDocument(
  cluster: LabCluster,
  host: number,
  document: Record<string, unknown>,
  options: { built?: boolean } = {},
): Promise<void> {
  const file = join(cluster.lab.dir, `resources-${++applied}.yaml`);
  await writeFile(file, stringify(document));
  await runVigil(["config", "apply", file, "--socket", cluster.socketPath(host)], options);
}

// ---------------------------------------------------------------------------------------------
// Reading the replicated state

export function stateOf(cluster: LabCluster, host: number): Promise<ClusterState> {
  return controlGet<ClusterState>(cluster.socketPath(host), "/v1/state");
}

/** The state from the first host whose agent runs and answers. */
export async function anyState(cluster: LabCluster): Promise<ClusterState> {
  let lastError: unknown = new Error("no agent is running");
  for (let host = 0; host < cluster.lab.hosts.length; host++) {
    if (cluster.agent(host) === undefined) continue;
    try {
      return await stateOf(cluster, host);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * The node running every member of `members`, once each has exactly one cell, on that node, with
 * the instruction carried out (target = active = started); undefined while anything is in flight.
 */
export function groupNode(
  state: ClusterState,
  members: readonly string[] = SERVICE_MEMBERS,
): string | undefined {
  let node: string | undefined;
  for (const member of members) {
    const cells = Object.entries(state.resources[member] ?? {});
    if (cells.length !== 1) return undefined;
    const [where, cell] = cells[0]!;
    if (cell.target !== "started" || cell.active !== "started" || cell.stopFailed) return undefined;
    if (node !== undefined && node !== where) return undefined;
    node = where;
  }
  return node;
}

/** Index of a node named h<i+1> (LabCluster's naming). */
export function hostIndexOf(node: string): number {
  const index = Number(node.slice(1)) - 1;
  if (!/^h\d+$/.test(node) || index < 0) throw new Error(`not a lab node name: ${node}`);
  return index;
}

// ---------------------------------------------------------------------------------------------
// The client

export interface Probe {
  sentMs: number;
  doneMs: number;
  ok: boolean;
  /** The node that answered, or the error. */
  answer: string;
}

export function parseProbes(text: string): Probe[] {
  const probes: Probe[] = [];
  for (const line of text.split("\n")) {
    const [sent, done, outcome, answer] = line.split(" ");
    if (sent === undefined || done === undefined || answer === undefined) continue;
    probes.push({
      sentMs: Number(sent),
      doneMs: Number(done),
      ok: outcome === "ok",
      answer,
    });
  }
  return probes;
}

export interface Outage {
  /** Longest time without a successful answer, from the last success at or before `afterMs`. */
  outageMs: number;
  /** That gap: the success before it and the one that ended it (ms epoch). */
  fromMs: number;
  toMs: number;
  /** Whether any success came after `afterMs` (within `untilMs`). */
  recovered: boolean;
  /**
   * Who answered before `afterMs` (last success), and every distinct answerer after, in the
   * order the client asked them.
   */
  before: string | undefined;
  answeredBy: string[];
}

/**
 * The client-observed outage: the longest gap between consecutive successful answers (by the time
 * the answer arrived) that ends after `afterMs`, up to `untilMs`. Without any success after
 * `afterMs` it is the time from the last success to `untilMs` (or the last attempt).
 */
export function clientOutage(
  probes: readonly Probe[],
  afterMs: number,
  untilMs = Number.POSITIVE_INFINITY,
): Outage {
  const successes = probes.filter((p) => p.ok && p.doneMs <= untilMs);
  successes.sort((a, b) => a.doneMs - b.doneMs);
  let previous: Probe | undefined;
  const after: Probe[] = [];
  for (const probe of successes) {
    if (probe.doneMs <= afterMs) previous = probe;
    else after.push(probe);
  }
  let prevMs = previous?.doneMs ?? afterMs;
  let longest = { outageMs: 0, fromMs: prevMs, toMs: prevMs };
  for (const probe of after) {
    const gap = probe.doneMs - prevMs;
    if (gap > longest.outageMs) longest = { outageMs: gap, fromMs: prevMs, toMs: probe.doneMs };
    prevMs = probe.doneMs;
  }
  if (after.length === 0) {
    const lastAttempt = Math.max(afterMs, ...probes.map((p) => p.doneMs));
    const endMs = Number.isFinite(untilMs) ? untilMs : lastAttempt;
    longest = { outageMs: endMs - prevMs, fromMs: prevMs, toMs: endMs };
  }
  // Who served is read in the order the client asked, not the order answers arrived: a
  // connection the old owner accepted just before handing over can be answered after the new
  // owner's first answers (its forked handler was slow), which is an in-flight request, not the
  // service moving back.
  const askedInOrder = [...after].sort((a, b) => a.sentMs - b.sentMs);
  const answeredBy: string[] = [];
  for (const probe of askedInOrder)
    if (answeredBy.at(-1) !== probe.answer) answeredBy.push(probe.answer);
  return { ...longest, recovered: after.length > 0, before: previous?.answer, answeredBy };
}

/** The prober (vip-prober.mjs) running in a client namespace, logging to a file in the lab dir. */
export class ClientProber {
  private readonly parsed: Probe[] = [];
  private offset = 0;

  private constructor(
    readonly process: LabProcess,
    readonly logPath: string,
  ) {}

  static async start(
    client: LabHost,
    logPath: string,
    target: { address: string; port: number },
    intervalMs = 5,
  ): Promise<ClientProber> {
    const proc = client.spawn(process.execPath, [
      PROBER_SCRIPT,
      target.address,
      String(target.port),
      logPath,
      String(intervalMs),
    ]);
    await proc.waitForLine(/^probing /, 10_000);
    return new ClientProber(proc, logPath);
  }

  /** Every attempt logged so far (the file is read incrementally: it grows by ~8 KB/s). */
  async probes(): Promise<readonly Probe[]> {
    const handle = await open(this.logPath, "r").catch(() => undefined);
    if (handle === undefined) return this.parsed;
    try {
      const { size } = await handle.stat();
      if (size > this.offset) {
        const buffer = Buffer.alloc(size - this.offset);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        const text = buffer.subarray(0, bytesRead).toString("utf8");
        // Only whole lines: the prober may be half-way through one.
        const end = text.lastIndexOf("\n") + 1;
        this.offset += Buffer.byteLength(text.slice(0, end));
        for (const probe of parseProbes(text.slice(0, end))) this.parsed.push(probe);
      }
    } finally {
      await handle.close();
    }
    return this.parsed;
  }

  /** Waits for a successful answer, sent at or after `sinceMs`, that satisfies `accept`. */
  waitForAnswer(
    what: string,
    sinceMs: number,
    accept: (answer: string) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Probe> {
    return waitFor(
      `the client to get ${what}`,
      async () =>
        (await this.probes()).find((p) => p.ok && p.sentMs >= sinceMs && accept(p.answer)),
      { timeoutMs, intervalMs: 50 },
    );
  }

  async stop(): Promise<void> {
    this.process.kill("SIGTERM");
    await this.process.exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Who held the VIP, and who ran the service, when

export interface Interval {
  node: string;
  fromMs: number;
  toMs: number;
}

export interface Overlap {
  nodes: [string, string];
  fromMs: number;
  toMs: number;
}

/** Every pair of intervals of different nodes that share an instant (touching ends do not). */
export function overlaps(intervals: readonly Interval[]): Overlap[] {
  const found: Overlap[] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const a = intervals[i]!;
      const b = intervals[j]!;
      if (a.node === b.node) continue;
      const fromMs = Math.max(a.fromMs, b.fromMs);
      const toMs = Math.min(a.toMs, b.toMs);
      if (fromMs < toMs) found.push({ nodes: [a.node, b.node], fromMs, toMs });
    }
  }
  return found;
}

/**
 * Watches, inside one host, when the VIP is added to or removed from an interface: `ip monitor
 * address` (the kernel's own notifications, so no change is missed however short, and no
 * process per sample) stamped with bash's $EPOCHREALTIME, plus one `ip addr` snapshot once the
 * monitor listens. A watcher dies with its host's power-off; start a new one after power-on.
 */
const WATCH_SCRIPT = [
  'vip="$1"',
  "ip -o -4 monitor address | while IFS= read -r line; do",
  '  printf "%s %s\\n" "$EPOCHREALTIME" "$line"',
  "done &",
  // Let the monitor subscribe first: a change between the two is then seen by both.
  "sleep 0.2",
  'if ip -o -4 addr show | grep -qF " inet $vip/"; then held=1; else held=0; fi',
  'printf "%s snapshot %s\\n" "$EPOCHREALTIME" "$held"',
  'printf "%s ready\\n" "$EPOCHREALTIME"',
  "wait",
].join("\n");

interface WatchRun {
  node: string;
  process: LabProcess;
  /** When the host was powered off (the links went down): the VIP counts as gone from then. */
  endMs?: number;
}

export class VipWatch {
  private readonly runs: WatchRun[] = [];

  constructor(
    private readonly lab: Lab,
    private readonly vip: string,
    private readonly nameOf: (host: number) => string,
  ) {}

  async start(host: number): Promise<void> {
    const proc = this.lab.host(host).spawn("bash", ["-c", WATCH_SCRIPT, "vip-watch", this.vip]);
    this.runs.push({ node: this.nameOf(host), process: proc });
    await proc.waitForLine(/ ready$/, 10_000, "stdout");
  }

  /** The host lost power at `atMs`: whatever its namespace still has configured no longer counts. */
  markOff(host: number, atMs: number): void {
    const node = this.nameOf(host);
    for (const run of this.runs) if (run.node === node && run.endMs === undefined) run.endMs = atMs;
  }

  /** Every interval during which a host had the VIP configured. */
  intervals(atMs = nowMs()): Interval[] {
    const result: Interval[] = [];
    const marker = ` inet ${this.vip}/`;
    for (const run of this.runs) {
      const endMs = run.endMs ?? atMs;
      const changes: Array<{ atMs: number; held: boolean }> = [];
      for (const line of run.process.stdout.split("\n")) {
        const space = line.indexOf(" ");
        if (space < 0) continue;
        const at = Number(line.slice(0, space)) * 1000;
        const rest = line.slice(space + 1);
        if (rest.startsWith("snapshot ")) changes.push({ atMs: at, held: rest.endsWith("1") });
        else if (rest.includes(marker))
          changes.push({ atMs: at, held: !rest.startsWith("Deleted") });
      }
      changes.sort((a, b) => a.atMs - b.atMs);
      let since: number | undefined;
      for (const change of changes) {
        if (change.atMs >= endMs) break;
        if (change.held && since === undefined) since = change.atMs;
        if (!change.held && since !== undefined) {
          result.push({ node: run.node, fromMs: since, toMs: change.atMs });
          since = undefined;
        }
      }
      if (since !== undefined) result.push({ node: run.node, fromMs: since, toMs: endMs });
    }
    return result.sort((a, b) => a.fromMs - b.fromMs);
  }

  /** Nodes holding the VIP right now, as far as the watchers have reported. */
  holders(atMs = nowMs()): string[] {
    return this.intervals(atMs)
      .filter((i) => i.toMs >= atMs)
      .map((i) => i.node);
  }

  stop(): void {
    for (const run of this.runs) run.process.kill("SIGTERM");
  }
}

export interface EchoEvent {
  atMs: number;
  what: "start" | "stop";
  node: string;
}

/** STATEDIR/events.log of the echo service: "<ms> start|stop <node>" per line. */
export async function readEchoEvents(statedir: string): Promise<EchoEvent[]> {
  const text = await readFile(join(statedir, "events.log"), "utf8").catch(() => "");
  const events: EchoEvent[] = [];
  for (const line of text.split("\n")) {
    const [at, what, node] = line.split(" ");
    if (node === undefined || (what !== "start" && what !== "stop")) continue;
    events.push({ atMs: Number(at), what, node });
  }
  return events;
}

/**
 * When the echo service ran on each node: from its start to its stop, or to the node's power-off
 * (which kills it without a log line), or still running at `atMs`.
 */
export function echoIntervals(
  events: readonly EchoEvent[],
  powerOffs: ReadonlyMap<string, readonly number[]>,
  atMs = nowMs(),
): Interval[] {
  const result: Interval[] = [];
  const open = new Map<string, number>();
  const ordered = [...events].sort((a, b) => a.atMs - b.atMs);
  const close = (node: string, toMs: number) => {
    const fromMs = open.get(node);
    if (fromMs === undefined) return;
    result.push({ node, fromMs, toMs });
    open.delete(node);
  };
  for (const event of ordered) {
    // A power-off between the start and this event ended the copy first.
    const fromMs = open.get(event.node);
    if (fromMs !== undefined) {
      const off = powerOffs.get(event.node)?.find((t) => t >= fromMs && t <= event.atMs);
      if (off !== undefined) close(event.node, off);
    }
    if (event.what === "start") {
      if (!open.has(event.node)) open.set(event.node, event.atMs);
    } else {
      close(event.node, event.atMs);
    }
  }
  for (const [node, fromMs] of [...open]) {
    const off = powerOffs.get(node)?.find((t) => t >= fromMs);
    close(node, off ?? atMs);
  }
  return result.sort((a, b) => a.fromMs - b.fromMs);
}

// ---------------------------------------------------------------------------------------------
// The whole setup

export interface TakeoverLabOptions {
  profile?: TimingProfileName;
  /** Run the compiled agent and CLI (benchmarks). */
  built?: boolean;
  vipAgent?: "vip" | "IPaddr2";
  monitorIntervalMs?: number;
  /** More configuration sections for every agent (see LabClusterOptions.extraConfig). */
  extraConfig?: LabClusterOptions["extraConfig"];
}

/**
 * A 3-host cluster with the service group, one client probing the VIP, a VIP watcher on every
 * host, and the faults a takeover must survive. Power-off times are recorded so that the safety
 * checks know when a host's copies ended. Needs a lab with at least one client.
 */
export class TakeoverLab {
  readonly vip: string;
  readonly port = SERVICE_PORT;
  readonly watch: VipWatch;
  readonly powerOffs = new Map<string, number[]>();
  prober: ClientProber | undefined;

  private constructor(
    readonly lab: Lab,
    readonly cluster: LabCluster,
    readonly options: TakeoverLabOptions,
  ) {
    this.vip = vipOf(lab);
    this.watch = new VipWatch(lab, this.vip, (host) => cluster.name(host));
  }

  /** Starts the agents (and a VIP watcher on every host) and waits until every host sees all. */
  static async create(lab: Lab, options: TakeoverLabOptions = {}): Promise<TakeoverLab> {
    if (lab.clients.length === 0) throw new Error("TakeoverLab needs a lab with a client host");
    const cluster = await LabCluster.create(lab, {
      profile: options.profile ?? "default",
      ...(options.built === undefined ? {} : { built: options.built }),
      ...(options.extraConfig === undefined ? {} : { extraConfig: options.extraConfig }),
    });
    const self = new TakeoverLab(lab, cluster, options);
    for (let host = 0; host < lab.hosts.length; host++) await self.watch.start(host);
    await cluster.startAll();
    await cluster.waitAllUp();
    await self.waitForLeader();
    return self;
  }

  get hosts(): number[] {
    return this.lab.hosts.map((_, i) => i);
  }

  name(host: number): string {
    return this.cluster.name(host);
  }

  document(extra: Partial<ServiceOptions> = {}): Record<string, unknown> {
    return serviceDocument({
      vip: this.vip,
      statedir: this.lab.dir,
      interface: this.lab.host(0).device(0),
      ...(this.options.vipAgent === undefined ? {} : { vipAgent: this.options.vipAgent }),
      ...(this.options.monitorIntervalMs === undefined
        ? {}
        : { monitorIntervalMs: this.options.monitorIntervalMs }),
      ...extra,
    });
  }

  /** Applies the service configuration through a running agent. */
  async apply(extra: Partial<ServiceOptions> = {}): Promise<void> {
    const via = this.hosts.find((host) => this.cluster.agent(host) !== undefined);
    if (via === undefined) throw new Error("no agent runs to apply the configuration through");
    const document = this.document(extra);
    const built = this.options.built === undefined ? {} : { built: this.options.built };
    // Right after an election the answer may be "no leader at the moment; try again shortly".
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await applyDocument(this.cluster, via, document, built);
        return;
      } catch (error) {
        lastError = error;
        if (!/try again/.test((error as Error).message)) throw error;
        await new Promise((done) => setTimeout(done, 250));
      }
    }
    throw lastError;
  }

  /**
   * Moves the group to `host` as an operator would (`vigil resource move`), waits until it runs
   * there, then forgets the move (`vigil resource clear`): it stays, with auto_failback off.
   */
  async moveGroup(host: number): Promise<void> {
    const via = this.hosts.find((h) => this.cluster.agent(h) !== undefined);
    if (via === undefined) throw new Error("no agent runs to move the group through");
    const built = this.options.built === undefined ? {} : { built: this.options.built };
    const socket = this.cluster.socketPath(via);
    await runVigil(["resource", "move", GROUP, this.name(host), "--socket", socket], built);
    await this.waitForGroup(
      `the group to move to ${this.name(host)}`,
      (n) => n === this.name(host),
    );
    await runVigil(["resource", "clear", GROUP, "--socket", socket], built);
    await waitFor("the move to be forgotten", async () =>
      (await anyState(this.cluster)).operator[GROUP]?.prefer === undefined ? true : undefined,
    );
  }

  /** `vigil resource cleanup RES`: forgets its failures everywhere; waits until committed. */
  async cleanup(resource: string): Promise<void> {
    const via = this.hosts.find((host) => this.cluster.agent(host) !== undefined);
    if (via === undefined) throw new Error("no agent runs to clean up through");
    await runVigil(["resource", "cleanup", resource, "--socket", this.cluster.socketPath(via)], {
      ...(this.options.built === undefined ? {} : { built: this.options.built }),
    });
    await waitFor(`${resource}'s fail counts to be forgotten`, async () =>
      Object.keys((await anyState(this.cluster)).failCounts[resource] ?? {}).length === 0
        ? true
        : undefined,
    );
  }

  /** Waits until the group runs, settled, on one node (accepted by `accept`); returns its index. */
  async waitForGroup(
    what = "the service group to run on one node",
    accept: (node: string) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<number> {
    let last = "";
    try {
      const node = await waitFor(
        what,
        async () => {
          const state = await anyState(this.cluster);
          last = JSON.stringify(
            Object.fromEntries(SERVICE_MEMBERS.map((m) => [m, state.resources[m] ?? {}])),
          );
          const node = groupNode(state);
          return node !== undefined && accept(node) ? node : undefined;
        },
        { timeoutMs, intervalMs: 20 },
      );
      return hostIndexOf(node);
    } catch (error) {
      throw new Error(`${(error as Error).message}; last cells: ${last}`);
    }
  }

  /** Starts the client's prober (one per TakeoverLab) and waits for a first answer. */
  async startProber(intervalMs = 5): Promise<ClientProber> {
    if (this.prober !== undefined) return this.prober;
    this.prober = await ClientProber.start(
      this.lab.clients[0]!,
      join(this.lab.dir, "client-probes.log"),
      { address: this.vip, port: this.port },
      intervalMs,
    );
    await this.prober.waitForAnswer("a first answer", 0);
    return this.prober;
  }

  /** Waits until this agent's run has probed the configuration in force. */
  async waitProbed(host: number, timeoutMs = 30_000): Promise<void> {
    const name = this.name(host);
    await waitFor(
      `${name} to probe its resources`,
      async () => {
        const status = await this.cluster.status(host);
        const state = await stateOf(this.cluster, host);
        const agent = state.agents[name];
        return agent?.incarnation === status.node.incarnation &&
          agent.probedConfigVersion === state.config.version &&
          !agent.shuttingDown
          ? true
          : undefined;
      },
      { timeoutMs },
    );
  }

  /** Waits until every running agent names the same Raft leader; returns its index. */
  async waitForLeader(timeoutMs = 30_000): Promise<number> {
    const running = this.hosts.filter((host) => this.cluster.agent(host) !== undefined);
    return waitFor(
      "every agent to agree on a Raft leader",
      async () => {
        const leaders = await Promise.all(running.map((host) => this.leader(host)));
        const first = leaders[0];
        return first !== undefined && leaders.every((l) => l === first) ? first : undefined;
      },
      { timeoutMs },
    );
  }

  /** Raft's leader as the given running agent sees it (node index), or undefined. */
  async leader(observer: number): Promise<number | undefined> {
    const status: AgentStatus = await this.cluster.status(observer);
    const id = status.coordination?.leaderId ?? null;
    return id === null ? undefined : id - 1;
  }

  /** Power-off (links down, then SIGKILL of everything on it). Returns when it began. */
  async powerOff(host: number): Promise<number> {
    const atMs = nowMs();
    await this.lab.powerOff(host);
    // Conservative for the safety checks: the host's copies count until every process is gone.
    const offMs = nowMs();
    const name = this.name(host);
    this.powerOffs.set(name, [...(this.powerOffs.get(name) ?? []), offMs]);
    this.watch.markOff(host, offMs);
    return atMs;
  }

  /**
   * Power back on as after a reboot: the volatile state a real reboot loses (addresses added at
   * run time, the service's pid file) is cleared while the links are still down, so the host
   * never answers for the VIP from a previous life; then links up, a new VIP watcher, the agent.
   */
  async powerOn(host: number, options: { startAgent?: boolean } = {}): Promise<void> {
    const h = this.lab.host(host);
    const shown = await h.exec("ip", ["-o", "-4", "addr", "show"]);
    for (const line of shown.stdout.split("\n")) {
      const match = / (\S+)\s+inet (\S+)/.exec(line);
      if (match === null) continue;
      const [, device, cidr] = match;
      if (cidr!.startsWith(`${this.vip}/`))
        await h.exec("ip", ["addr", "del", cidr!, "dev", device!]);
    }
    const name = this.name(host);
    for (const file of await readdir(this.lab.dir)) {
      if (file.endsWith(`.${name}.pid`)) await rm(join(this.lab.dir, file), { force: true });
    }
    await this.lab.powerOn(host);
    await this.watch.start(host);
    if (options.startAgent ?? true) await this.startAgent(host);
  }

  /** Graceful stop: SIGTERM to the agent, which hands its resources over, then exits. */
  async stopAgent(host: number): Promise<number> {
    const agent = this.cluster.agent(host);
    if (agent === undefined) throw new Error(`no agent runs on ${this.name(host)}`);
    const atMs = nowMs();
    agent.kill("SIGTERM");
    await agent.exited;
    return atMs;
  }

  /**
   * Starts the agent and waits until it has probed (it then takes part in placement); with
   * `probed: false`, only until it runs (alone, it may never get to probe: no quorum).
   */
  async startAgent(host: number, options: { probed?: boolean } = {}): Promise<void> {
    await this.cluster.start(host);
    if (options.probed === false) return;
    await this.cluster.waitAllUp(this.hosts.filter((h) => this.cluster.agent(h) !== undefined));
    await this.waitProbed(host);
  }

  /** Removes the VIP by hand on the host, as a careless operator would. Returns when. */
  async deleteVip(host: number): Promise<number> {
    const h = this.lab.host(host);
    const atMs = nowMs();
    const result = await h.exec("ip", [
      "addr",
      "del",
      `${this.vip}/${VIP_PREFIX_LENGTH}`,
      "dev",
      h.device(0),
    ]);
    if (result.code !== 0) throw new Error(`ip addr del failed: ${result.stderr}`);
    return atMs;
  }

  /** Every instant the VIP, or the echo service, was on two hosts at once. */
  async safety(): Promise<{ vip: Overlap[]; echo: Overlap[]; echoEvents: EchoEvent[] }> {
    const atMs = nowMs();
    const echoEvents = await readEchoEvents(this.lab.dir);
    return {
      vip: overlaps(this.watch.intervals(atMs)),
      echo: overlaps(echoIntervals(echoEvents, this.powerOffs, atMs)),
      echoEvents,
    };
  }

  /** Throws, with the evidence, if the VIP or the service was ever on two hosts at once. */
  async assertSafe(scenario: string): Promise<void> {
    const { vip, echo, echoEvents } = await this.safety();
    const problems: string[] = [];
    if (vip.length > 0) {
      problems.push(
        `VIP on two hosts: ${vip.map((o) => `${o.nodes.join("+")} ${(o.toMs - o.fromMs).toFixed(1)} ms from ${o.fromMs.toFixed(1)}`).join("; ")}` +
          `; intervals: ${JSON.stringify(this.watch.intervals(nowMs()))}`,
      );
    }
    if (echo.length > 0) {
      problems.push(
        `echo service on two hosts: ${echo.map((o) => `${o.nodes.join("+")} from ${o.fromMs}`).join("; ")}` +
          `; events.log: ${echoEvents.map((e) => `${e.atMs} ${e.what} ${e.node}`).join(", ")}` +
          `; power-offs: ${JSON.stringify([...this.powerOffs])}`,
      );
    }
    if (problems.length > 0) throw new Error(`${scenario}: ${problems.join("\n")}`);
  }

  /** Stops the prober and the watchers (the lab's teardown would kill them anyway). */
  async close(): Promise<void> {
    await this.prober?.stop();
    this.watch.stop();
  }
}

/** Whether Debian's IPaddr2 agent is installed here. */
export function ipaddr2Available(): boolean {
  return existsSync(IPADDR2_PATH);
}
