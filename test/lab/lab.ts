/**
 * A test lab: real hosts as network namespaces on one or two bridged links, with processes and
 * faults (power, cuts, loss, pauses) driven by real tools. Use withLab so teardown always runs.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import {
  type CleanupTarget,
  keepLabDir,
  labDir,
  register,
  sweepLeftovers,
  unregister,
} from "./cleanup.js";
import { isAlreadyExists } from "./command.js";
import {
  checkDirection,
  checkLossPercent,
  type Direction,
  type FaultPlacement,
  type LinkFaultState,
  LinkFaults,
} from "./faults.js";
import {
  checkHostLink,
  device,
  type HostKind,
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
  evictProcesses,
  installNeighbours,
  labNamespaces,
  setHostLinks,
} from "./netns.js";
import {
  type ExecOptions,
  type ExecResult,
  type LabProcess,
  ProcessTable,
  type SpawnOptions,
  withTimeout,
} from "./processes.js";
import { egressHookSupported } from "./support.js";

/** Random ids clash about once in a million labs; five tries make a failure a real problem. */
const ID_ATTEMPTS = 5;
const POWER_OFF_EXIT_WAIT_MS = 5_000;

/** One machine of the lab: its namespace, addresses and a way to run things on it. */
export class LabHost {
  readonly index: number;
  readonly kind: HostKind;
  /** Network namespace name, for `ip netns exec` or `ip -n`. */
  readonly ns: string;
  /** Links this host is attached to. */
  readonly links: readonly number[];

  constructor(
    readonly plan: HostPlan,
    private readonly processes: ProcessTable,
    private readonly checkOpen: () => void,
  ) {
    this.index = plan.index;
    this.kind = plan.kind;
    this.ns = plan.ns;
    this.links = plan.links;
  }

  /** IPv4 address on `link`: 198.18.<link>.<index + 1> (clients 198.18.0.<101 + j>). */
  address(link = 0): string {
    return hostAddress(this.plan, link);
  }

  /** Interface name of `link` inside the host: eth<link>. */
  device(link = 0): string {
    checkHostLink(this.plan, link);
    return device(link);
  }

  /** Starts a long-running command in the host's namespace, in its own process group. */
  spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): LabProcess {
    this.checkOpen();
    return this.processes.spawn(this.plan, command, args, options);
  }

  /** Runs a short command in the host's namespace; a non-zero exit is a result, not an error. */
  exec(
    command: string,
    args: readonly string[] = [],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    this.checkOpen();
    return this.processes.exec(this.plan, command, args, options);
  }
}

/** A host given by index or by its handle. */
export type HostRef = number | LabHost;

export interface CreateLabOptions extends LabOptions {
  /**
   * Where outbound drops are hooked; default: "host-egress" when the kernel has the netdev egress
   * hook, else "switch-ingress". See faults.ts.
   */
  faultPlacement?: FaultPlacement;
}

export class Lab implements CleanupTarget {
  readonly id: string;
  readonly dir: string;
  readonly linkCount: number;
  /** Namespace holding one bridge per link (br0, br1) and the hosts' switch ports. */
  readonly switchNs: string;
  /** Cluster hosts, indices 0..hosts-1, on every link. */
  readonly hosts: readonly LabHost[];
  /** Client hosts (link 0 only), indices hosts.length..hosts.length+clients-1. */
  readonly clients: readonly LabHost[];
  readonly faultPlacement: FaultPlacement;
  private readonly plan: LabPlan;
  private readonly all: readonly LabHost[];
  private readonly processes: ProcessTable;
  private readonly faults: LinkFaults;
  private closed = false;
  private teardownPromise: Promise<void> | null = null;

  constructor(plan: LabPlan, dir: string, faultPlacement: FaultPlacement) {
    this.plan = plan;
    this.id = plan.id;
    this.dir = dir;
    this.linkCount = plan.linkCount;
    this.switchNs = plan.switchNs;
    this.faultPlacement = faultPlacement;
    this.processes = new ProcessTable(dir);
    this.faults = new LinkFaults(plan, faultPlacement);
    this.all = plan.hosts.map((host) => new LabHost(host, this.processes, () => this.checkOpen()));
    this.hosts = this.all.filter((host) => host.kind === "node");
    this.clients = this.all.filter((host) => host.kind === "client");
  }

  /** Host (or client) by index; throws naming the valid range. */
  host(index: number): LabHost {
    const host = this.all[index];
    if (!Number.isInteger(index) || host === undefined) {
      throw new Error(
        `lab ${this.id} has no host ${index}: hosts are 0..${this.hosts.length - 1}` +
          (this.clients.length > 0 ? `, clients ${this.hosts.length}..${this.all.length - 1}` : ""),
      );
    }
    return host;
  }

  /** The link's subnet, 198.18.<link>.0/24. */
  subnet(link: number): string {
    this.checkLink(link);
    return subnet(link);
  }

  /** Names of every namespace of the lab, the switch's last. */
  namespaces(): readonly string[] {
    return labNamespaces(this.plan);
  }

  /** Links down first, then SIGKILL everything on the host: nothing gets to say goodbye. */
  async powerOff(ref: HostRef): Promise<void> {
    this.checkOpen();
    const host = this.resolve(ref);
    await setHostLinks(host.plan, "down");
    const exits = this.processes.exitsOf(host.index);
    await this.processes.signalHost(host.plan, "SIGKILL");
    await evictProcesses(host.ns);
    // Reaping is asynchronous: wait so that `exited` has settled when powerOff returns.
    await withTimeout(
      Promise.all(exits),
      POWER_OFF_EXIT_WAIT_MS,
      `processes on lab host ${host.index} did not exit within ${POWER_OFF_EXIT_WAIT_MS} ms of power-off`,
    );
  }

  /** Links up again (faults set before stay); the test restarts whatever should run. */
  async powerOn(ref: HostRef): Promise<void> {
    this.checkOpen();
    const host = this.resolve(ref);
    await setHostLinks(host.plan, "up");
    // Setting the links down flushed the host's neighbour entries, permanent ones included.
    await installNeighbours(this.plan, host.plan);
  }

  /** powerOff then powerOn: a crash and reboot with nothing running afterwards. */
  async powerCycle(ref: HostRef): Promise<void> {
    await this.powerOff(ref);
    await this.powerOn(ref);
  }

  /** Drops the host's traffic on `link`: "in" what reaches it, "out" what it sends. */
  cutLink(ref: HostRef, link: number, direction: Direction = "both"): Promise<void> {
    const cut = checkDirection(direction);
    return this.updateFaults(ref, link, (state) => ({ ...state, cut }));
  }

  /** Removes the cut on `link`; a loss set by randomLoss stays. */
  healLink(ref: HostRef, link: number): Promise<void> {
    return this.updateFaults(ref, link, (state) => ({ ...state, cut: null }));
  }

  async cutAll(ref: HostRef, direction: Direction = "both"): Promise<void> {
    const host = this.resolve(ref);
    for (const link of host.links) await this.cutLink(host, link, direction);
  }

  async healAll(ref: HostRef): Promise<void> {
    const host = this.resolve(ref);
    for (const link of host.links) await this.healLink(host, link);
  }

  /** Drops each frame on `link` with probability percent/100 (0.01 % steps), per direction. */
  randomLoss(
    ref: HostRef,
    link: number,
    percent: number,
    direction: Direction = "both",
  ): Promise<void> {
    const loss = { percent: checkLossPercent(percent), direction: checkDirection(direction) };
    return this.updateFaults(ref, link, (state) => ({ ...state, loss }));
  }

  clearLoss(ref: HostRef, link: number): Promise<void> {
    return this.updateFaults(ref, link, (state) => ({ ...state, loss: null }));
  }

  /** The faults currently applied to the host's link. */
  linkFaults(ref: HostRef, link: number): LinkFaultState {
    const host = this.resolve(ref);
    checkHostLink(host.plan, link);
    return this.faults.state(host.plan, link);
  }

  /** SIGSTOPs every process on the host: alive but silent, like a VM frozen by its hypervisor. */
  pause(ref: HostRef): Promise<void> {
    this.checkOpen();
    return this.processes.signalHost(this.resolve(ref).plan, "SIGSTOP");
  }

  resume(ref: HostRef): Promise<void> {
    this.checkOpen();
    return this.processes.signalHost(this.resolve(ref).plan, "SIGCONT");
  }

  /** Kills the lab's processes, deletes its namespaces and waits until they are gone. Idempotent. */
  teardown(): Promise<void> {
    this.closed = true;
    this.teardownPromise ??= this.destroy();
    return this.teardownPromise;
  }

  abandonSync(): void {
    this.closed = true;
    this.processes.killAllSync();
  }

  private async destroy(): Promise<void> {
    const errors: unknown[] = [];
    await this.processes.killAll().catch((error: unknown) => errors.push(error));
    await sweepLeftovers(this.id).catch((error: unknown) => errors.push(error));
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
    ref: HostRef,
    link: number,
    change: (state: LinkFaultState) => LinkFaultState,
  ): Promise<void> {
    this.checkOpen();
    const host = this.resolve(ref);
    checkHostLink(host.plan, link);
    return this.faults.update(host.plan, link, change);
  }

  private resolve(ref: HostRef): LabHost {
    if (typeof ref === "number") return this.host(ref);
    if (this.all[ref.index] !== ref)
      throw new Error(`host ${ref.ns} is not part of lab ${this.id}`);
    return ref;
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
export async function createLab(options: CreateLabOptions): Promise<Lab> {
  const placement =
    options.faultPlacement ?? ((await egressHookSupported()) ? "host-egress" : "switch-ingress");
  for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
    const plan = planLab(labIdFromRandom(randomBytes(3)), options);
    const dir = labDir(plan.id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    const lab = new Lab(plan, dir, placement);
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
export async function withLab<T>(
  options: CreateLabOptions,
  body: (lab: Lab) => Promise<T>,
): Promise<T> {
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
