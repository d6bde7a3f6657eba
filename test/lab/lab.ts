/**
 * A test lab: real hosts as network namespaces on one or two bridged links, with processes and
 * faults (power, cuts, loss, pauses) driven by real tools. Use withLab so teardown always runs.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import {
  type CleanupTarget,
  keepLabDir,
  labDir,
  ownerFile,
  ownerRecord,
  register,
  sweepStaleLabs,
  unregister,
} from "./cleanup.js";
import { isAlreadyExists, run } from "./command.js";
import { checkDirection, checkLossPercent, type Direction, LinkFaults } from "./faults.js";
import {
  device,
  type HostPlan,
  hostAddress,
  type LabOptions,
  type LabPlan,
  labIdFromRandom,
  planLab,
  subnet,
} from "./names.js";
import {
  buildTopology,
  claimSwitch,
  destroyNamespaces,
  evictProcesses,
  labNamespaces,
} from "./netns.js";
import {
  type ExecOptions,
  type ExecResult,
  type LabProcess,
  ProcessTable,
  type SpawnOptions,
  withTimeout,
} from "./processes.js";

export type LabHost = HostPlan;

/** Random ids clash about once in a million labs; five tries make a failure a real problem. */
const ID_ATTEMPTS = 5;
const POWER_OFF_EXIT_WAIT_MS = 5_000;

export class Lab implements CleanupTarget {
  readonly id: string;
  readonly dir: string;
  readonly linkCount: number;
  /** Cluster hosts, indices 0..hosts-1. */
  readonly hosts: readonly LabHost[];
  /** Client hosts (link 0 only), indices hosts.length..hosts.length+clients-1. */
  readonly clients: readonly LabHost[];
  private readonly plan: LabPlan;
  private readonly processes: ProcessTable;
  private readonly faults = new LinkFaults();
  private closed = false;
  private teardownPromise: Promise<void> | null = null;

  constructor(plan: LabPlan, dir: string) {
    this.plan = plan;
    this.id = plan.id;
    this.dir = dir;
    this.linkCount = plan.linkCount;
    this.hosts = plan.hosts.filter((host) => host.kind === "node");
    this.clients = plan.hosts.filter((host) => host.kind === "client");
    this.processes = new ProcessTable(dir);
  }

  nsName(host: number): string {
    return this.host(host).ns;
  }

  address(host: number, link: number): string {
    return hostAddress(this.host(host), link);
  }

  device(link: number): string {
    this.checkLink(link);
    return device(link);
  }

  subnet(link: number): string {
    this.checkLink(link);
    return subnet(link);
  }

  /** Starts `command` in the host's namespace, in its own process group, logging to a file. */
  spawn(
    host: number,
    command: string,
    args: readonly string[] = [],
    options: SpawnOptions = {},
  ): LabProcess {
    this.checkOpen();
    return this.processes.spawn(this.host(host), command, args, options);
  }

  /** Runs a short command in the host's namespace; a non-zero exit is a result, not an error. */
  exec(
    host: number,
    command: string,
    args: readonly string[] = [],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    this.checkOpen();
    return this.processes.exec(this.host(host), command, args, options);
  }

  /** Links down first, then SIGKILL everything on the host: nothing gets to say goodbye. */
  async powerOff(host: number): Promise<void> {
    this.checkOpen();
    const plan = this.host(host);
    for (const link of plan.links)
      await run("ip", ["-n", plan.ns, "link", "set", device(link), "down"]);
    const exits = this.processes.exitsOf(host);
    await this.processes.signalHost(plan, "SIGKILL");
    await evictProcesses(plan.ns);
    // Reaping is asynchronous: wait so that `exited` has settled when powerOff returns.
    await withTimeout(
      Promise.all(exits),
      POWER_OFF_EXIT_WAIT_MS,
      `processes on lab host ${host} did not exit within ${POWER_OFF_EXIT_WAIT_MS} ms of power-off`,
    );
  }

  /** Links up again; the test restarts whatever should run. */
  async powerOn(host: number): Promise<void> {
    this.checkOpen();
    const plan = this.host(host);
    for (const link of plan.links)
      await run("ip", ["-n", plan.ns, "link", "set", device(link), "up"]);
  }

  cutLink(host: number, link: number, direction: Direction = "both"): Promise<void> {
    const cut = checkDirection(direction);
    return this.updateFaults(host, link, (state) => ({ ...state, cut }));
  }

  healLink(host: number, link: number): Promise<void> {
    return this.updateFaults(host, link, (state) => ({ ...state, cut: null }));
  }

  setLoss(
    host: number,
    link: number,
    percent: number,
    direction: Direction = "both",
  ): Promise<void> {
    const loss = { percent: checkLossPercent(percent), direction: checkDirection(direction) };
    return this.updateFaults(host, link, (state) => ({ ...state, loss }));
  }

  clearLoss(host: number, link: number): Promise<void> {
    return this.updateFaults(host, link, (state) => ({ ...state, loss: null }));
  }

  async cutAll(host: number, direction: Direction = "both"): Promise<void> {
    for (const link of this.host(host).links) await this.cutLink(host, link, direction);
  }

  /** Heals the cuts on every link of the host; losses stay until clearLoss. */
  async healAll(host: number): Promise<void> {
    for (const link of this.host(host).links) await this.healLink(host, link);
  }

  pause(host: number): Promise<void> {
    this.checkOpen();
    return this.processes.signalHost(this.host(host), "SIGSTOP");
  }

  resume(host: number): Promise<void> {
    this.checkOpen();
    return this.processes.signalHost(this.host(host), "SIGCONT");
  }

  /** Kills the lab's processes, deletes its namespaces and waits until they are gone. Idempotent. */
  teardown(): Promise<void> {
    this.closed = true;
    this.teardownPromise ??= this.destroy();
    return this.teardownPromise;
  }

  namespaces(): readonly string[] {
    return labNamespaces(this.plan);
  }

  abandonSync(): void {
    this.closed = true;
    this.processes.killAllSync();
  }

  private async destroy(): Promise<void> {
    const errors: unknown[] = [];
    await this.processes.killAll().catch((error: unknown) => errors.push(error));
    await destroyNamespaces(this.namespaces(), this.plan.switchNs).catch((error: unknown) =>
      errors.push(error),
    );
    if (errors.length > 0) {
      // Still registered: the exit-time safety net gets another try.
      throw new AggregateError(
        errors,
        `teardown of lab ${this.id} failed:\n${errors.map(String).join("\n")}`,
      );
    }
    unregister(this);
    if (keepLabDir())
      process.stderr.write(`vigil lab ${this.id}: kept ${this.dir} (VIGIL_LAB_KEEP=1)\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  private updateFaults(
    host: number,
    link: number,
    change: Parameters<LinkFaults["update"]>[2],
  ): Promise<void> {
    this.checkOpen();
    const plan = this.host(host);
    if (!plan.links.includes(link)) {
      throw new Error(
        `lab host ${host} has no link ${link}; it is attached to links [${plan.links.join(", ")}]`,
      );
    }
    return this.faults.update(plan.ns, link, change);
  }

  private host(index: number): HostPlan {
    const host = this.plan.hosts[index];
    if (!Number.isInteger(index) || host === undefined) {
      throw new Error(
        `lab ${this.id} has no host ${index}: hosts are 0..${this.hosts.length - 1}` +
          (this.clients.length > 0
            ? `, clients ${this.hosts.length}..${this.plan.hosts.length - 1}`
            : ""),
      );
    }
    return host;
  }

  private checkLink(link: number): void {
    if (!Number.isInteger(link) || link < 0 || link >= this.linkCount) {
      throw new Error(`lab ${this.id} has links 0..${this.linkCount - 1}, not ${link}`);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`lab ${this.id} is torn down; create a new lab`);
  }
}

/** Creates a lab; prefer withLab, which guarantees teardown. */
export async function createLab(options: LabOptions): Promise<Lab> {
  await sweepStaleLabs().catch((error: unknown) => {
    // Someone else's leftovers must not fail this test; they are reported and retried next time.
    process.stderr.write(`vigil lab: sweeping stale labs failed: ${String(error)}\n`);
  });
  for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
    const plan = planLab(labIdFromRandom(randomBytes(3)), options);
    const dir = labDir(plan.id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    writeFileSync(ownerFile(dir), ownerRecord());
    const lab = new Lab(plan, dir);
    // Registered before anything exists in the kernel, so an interrupt from here on cleans up.
    register(lab);
    try {
      await claimSwitch(plan);
    } catch (error) {
      unregister(lab);
      rmSync(dir, { recursive: true, force: true });
      if (isAlreadyExists(error)) continue;
      throw error;
    }
    try {
      await buildTopology(plan);
    } catch (error) {
      await lab.teardown().catch((teardownError: unknown) => {
        throw new AggregateError(
          [error, teardownError],
          `lab ${plan.id} setup failed and so did its teardown`,
        );
      });
      throw error;
    }
    return lab;
  }
  throw new Error(
    `no free lab id after ${ID_ATTEMPTS} attempts: are stale vg*-sw namespaces piling up (ip netns list)?`,
  );
}

/** Runs `body` with a fresh lab and tears the lab down afterwards, whether `body` resolves or throws. */
export async function withLab<T>(options: LabOptions, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(options);
  let result: T;
  try {
    result = await body(lab);
  } catch (error) {
    await lab.teardown().catch((teardownError: unknown) => {
      throw new AggregateError(
        [error, teardownError],
        `lab ${lab.id}: the test failed and so did teardown`,
      );
    });
    throw error;
  }
  await lab.teardown();
  return result;
}
