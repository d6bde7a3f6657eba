/**
 * Fencing mode: the cluster's fence device is test/fixtures/fence/fence_lab, which powers a lab
 * host off for real (every link of its namespace down, then every process in it SIGKILLed). The
 * cluster decides when; this module notices afterwards, from fence_lab's own log, and turns each
 * fence into facts the rest of the run uses:
 * - for the checkers, the host went off when fence_lab was done (a power-off in TakeoverLab's
 *   record, and the end of its VIP watcher's run), exactly as a power-off by the run;
 * - for the run, the host waits to be powered on again (hosts.ts), and its agent's end is the
 *   fence's doing, not a crash;
 * - for the report, which step's fault led to it, how long after the fault, and whether the fault
 *   should have led to one (fenceExpectation) and did within FENCE_EXPECTED_WITHIN_MS.
 *
 * fence_lab and the run never act on a host at the same time: fence_lab holds
 * `<lab>/fence-locks/<namespace>.lock` (flock) while it powers a host off, and the run holds the
 * same lock while it powers one on (HostLock), up to the agent's start. A power-on cut in half by
 * a fence would leave a host with its links up, its old VIP still configured and no watcher.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RawConfig } from "../../src/config/schema.js";
import type { FenceEvent } from "../../src/state/types.js";
import type { Lab } from "../lab/index.js";
import type { TakeoverLab } from "../support/takeover-lab.js";
import type { Fault } from "./scenario.js";
import type { FenceExpectation, FenceRecord, StepResult } from "./types.js";

const here = fileURLToPath(new URL(".", import.meta.url));
/** The lab fence agent (the same one test/integration/fencing-netns.test.ts uses). */
export const FENCE_LAB = resolve(here, "../fixtures/fence/fence_lab");
export const FENCE_DEVICE = "lab";

/**
 * A host lost for at least this long while it held resources must have been fenced by then,
 * counted from the fault: the 900 ms deadtime of the default profile (the new leader of a lost
 * leader is elected within it), fence_lab itself (~30 ms), and about a second to spare for a
 * loaded machine. Measured: 900–1000 ms.
 */
export const FENCE_EXPECTED_WITHIN_MS = 2_500;
/** How often the run looks at fence_lab's log on its own (progress lines, prompt records). */
const POLL_INTERVAL_MS = 200;
/** Per fence_lab call; the cluster kills it after this and tries again 10 s later. */
const FENCE_TIMEOUT_MS = 10_000;
/** Waiting for the host lock: fence_lab holds it at most FENCE_TIMEOUT_MS. */
const LOCK_WAIT_MS = FENCE_TIMEOUT_MS + 5_000;
/** An agent whose end is not yet explained: how long a fence of its host may take to be logged. */
const FENCE_LOG_GRACE_MS = FENCE_TIMEOUT_MS + 2_000;

/**
 * Two-node mode: h1's fence delay. After a partition both nodes decide to fence the other at
 * about the same moment (each after the deadtime, 900 ms); h2 waits this long before shooting
 * h1, while h1 shoots h2 at once, so h2 is off long before its own shot would leave. The two
 * decisions differ by a keepalive (100 ms) and scheduling on a loaded machine; 2 s leaves over a
 * second of margin for that and fence_lab's own time (~30 ms). Longer buys nothing but a longer
 * outage whenever h1 itself is lost (deadtime + delay + start, well within the 10 s bound).
 */
export const TWO_NODE_FENCE_DELAY_MS = 2_000;
/** The node with the fence delay in two-node mode: it wins a fence race. */
export const TWO_NODE_DELAYED = "h1";

/**
 * The cluster configuration's `fencing` section: fence_lab fences every host of `lab`, each node
 * of `delayMs` only after that long.
 */
export function fencingConfig(
  lab: Lab,
  log: string,
  lockDir: string,
  delayMs: Record<string, number> = {},
): Partial<RawConfig> {
  return {
    fencing: {
      enabled: true,
      devices: {
        [FENCE_DEVICE]: {
          agent: `exec:${FENCE_LAB}`,
          // lab=: fence_lab refuses any namespace that is not one of this run's hosts.
          params: { log, lab: lab.id, lock_dir: lockDir },
          targets: Object.fromEntries(lab.hosts.map((host, i) => [`h${i + 1}`, host.ns])),
          timeout_ms: FENCE_TIMEOUT_MS,
        },
      },
      ...(Object.keys(delayMs).length === 0 ? {} : { delay_ms: delayMs }),
    },
  };
}

/** One line of fence_lab's log: a call beginning, or its end with its exit code. */
export type FenceLogLine =
  | { atMs: number; action: string; plug: string; begin: true }
  | { atMs: number; action: string; plug: string; begin: false; exit: number };

/** fence_lab's log: "<ms> <action> <plug> begin" and "<ms> <action> <plug> exit=<code>". */
export function parseFenceLog(text: string): FenceLogLine[] {
  const lines: FenceLogLine[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\d+) (\S+) (\S+) (begin|exit=(\d+))$/.exec(line);
    if (match === null) continue;
    const [, at, action, plug, what, exit] = match;
    lines.push(
      what === "begin"
        ? { atMs: Number(at), action: action!, plug: plug!, begin: true }
        : { atMs: Number(at), action: action!, plug: plug!, begin: false, exit: Number(exit) },
    );
  }
  return lines;
}

/** Whether a successful call of this action leaves the host off. */
const powersOff = (action: string) => action === "reboot" || action === "off";

/**
 * Whether `fault`, held `holdMs`, should get its target fenced, given what the target held when
 * it began. Vigil fences a node that no longer takes part (its peers do not hear it, or the
 * leader sees its lease surely ended) while the cluster records resources on it
 * (takeover/leader-step.ts, agent/agent-coordination.ts); a node that holds nothing is left alone,
 * and one that is back before it is judged lost is not fenced either. A fault that leaves one
 * working path each way (one link cut, loss, a short pause) loses nobody.
 */
export function fenceExpectation(
  fault: Fault,
  holdMs: number,
  held: readonly string[],
  target: string,
): FenceExpectation {
  let unheard: string | null = null;
  switch (fault.kind) {
    case "power-off":
    case "leader-kill":
      unheard = "powered off";
      break;
    case "isolate":
      unheard = "isolated";
      break;
    case "agent-kill":
      // The host and its links stay, but nothing speaks for it: its peers see it dead after the
      // deadtime, as after a power-off. Its guard has stopped what it held by then, which the
      // cluster cannot know: it fences all the same.
      unheard = "its agent killed (its guard may have released it first)";
      break;
    case "pause":
      // Past the deadtime its guard has killed the paused agent: as an agent kill.
      if (fault.long) unheard = "its agent paused past the deadtime (and killed by its guard)";
      break;
    case "one-way-cut":
      // Outbound: its peers hear nothing. Inbound: it hears no leader, so it answers nothing
      // and the leader sees its lease surely end (it no longer takes part, heard or not).
      if (fault.links === "all")
        unheard =
          fault.direction === "out"
            ? "nothing it sends arrives"
            : "it hears nothing, so it answers nothing";
      break;
    case "link-cut":
    case "loss":
      break;
  }
  const withinMs = FENCE_EXPECTED_WITHIN_MS;
  const base = { node: target, lost: unheard !== null, withinMs };
  if (unheard === null)
    return { ...base, expected: false, reason: "its peers still hear it: it is not lost" };
  if (held.length === 0)
    return {
      ...base,
      expected: false,
      reason: `${unheard}, but it held no resources: nothing to recover`,
    };
  if (holdMs < withinMs)
    return {
      ...base,
      expected: false,
      reason: `${unheard} for ${holdMs} ms only, under ${withinMs} ms: it may be back before it is fenced`,
    };
  return {
    ...base,
    expected: true,
    reason: `${unheard} for ${holdMs} ms while it held ${held.join(", ")}`,
  };
}

/**
 * Two-node mode (src/fencing/two-node-survivor.ts): a node whose membership loses its peer
 * fences it, whether or not the peer held anything, after the peer's fence delay (h1's
 * TWO_NODE_FENCE_DELAY_MS), unless the peer is heard again first. So the fenced node is the one
 * the other stops hearing, which is not always the fault's target:
 * - power-off, leader kill, agent kill, long pause, every outbound link of the target cut: the
 *   peer stops hearing the target and fences it (a dead or hung agent's guard may have released
 *   its resources first: the peer cannot know, and fences all the same);
 * - every inbound link of the target cut: the target stops hearing its peer and fences the peer
 *   (the peer still hears the target, so it fences nobody);
 * - a partition (isolate): both stop hearing each other and both fence; h2 shoots h1 only after
 *   h1's delay, so h1 shoots first and h2 must be the one fenced, whichever host was "isolated".
 * Anything else (one link, loss, a short pause) loses nobody.
 */
export function twoNodeFenceExpectation(
  fault: Fault,
  holdMs: number,
  target: string,
  peer: string,
): FenceExpectation {
  let lost: { node: string; why: string } | null = null;
  switch (fault.kind) {
    case "power-off":
    case "leader-kill":
      lost = { node: target, why: `${target} powered off` };
      break;
    case "agent-kill":
      lost = {
        node: target,
        why: `${target}'s agent killed (its guard may have released it first)`,
      };
      break;
    case "pause":
      if (fault.long)
        lost = {
          node: target,
          why: `${target}'s agent paused past the deadtime (and killed by its guard)`,
        };
      break;
    case "one-way-cut":
      if (fault.links === "all")
        lost =
          fault.direction === "out"
            ? { node: target, why: `${peer} hears nothing from ${target}` }
            : { node: peer, why: `${target} hears nothing from ${peer}` };
      break;
    case "isolate": {
      const loser = [target, peer].find((n) => n !== TWO_NODE_DELAYED) ?? peer;
      lost = {
        node: loser,
        why: `a partition: both fence, and ${TWO_NODE_DELAYED}'s fence delay lets it shoot ${loser} first`,
      };
      break;
    }
    case "link-cut":
    case "loss":
      break;
  }
  if (lost === null)
    return {
      expected: false,
      reason: "each still hears the other: nobody is lost",
      node: target,
      lost: false,
      withinMs: FENCE_EXPECTED_WITHIN_MS,
    };
  const withinMs =
    FENCE_EXPECTED_WITHIN_MS + (lost.node === TWO_NODE_DELAYED ? TWO_NODE_FENCE_DELAY_MS : 0);
  if (holdMs < withinMs)
    return {
      expected: false,
      reason: `${lost.why}; held ${holdMs} ms only, under ${withinMs} ms: ${lost.node} may be heard again before it is fenced`,
      node: lost.node,
      lost: true,
      withinMs,
    };
  return {
    expected: true,
    reason: `${lost.why}; held ${holdMs} ms: the survivor fences ${lost.node}, held or not`,
    node: lost.node,
    lost: true,
    withinMs,
  };
}

/** Whether a fence of the expectation's node is in time. */
function inTime(fence: FenceRecord, node: string | null, withinMs: number): boolean {
  return (
    fence.node === node &&
    fence.afterFaultMs !== null &&
    fence.afterFaultMs >= 0 &&
    fence.afterFaultMs <= withinMs
  );
}

/** The step's expected fence done in time, if any (report.ts counts them). */
export function fenceInTime(result: StepResult): FenceRecord | undefined {
  const expectation = result.fenceExpectation;
  if (expectation?.expected !== true) return undefined;
  return result.fences.find((f) => inTime(f, expectation.node, expectation.withinMs));
}

/**
 * What a step's fences say: a note per fence of the host the fault may get fenced (its target,
 * or in two-node mode the one its peer stops hearing); a failure for a fence of any other host,
 * and for an expected fence that did not come within the bound.
 */
export function judgeFences(result: StepResult): { notes: string[]; failures: string[] } {
  const notes: string[] = [];
  const failures: string[] = [];
  const expectation = result.fenceExpectation;
  const mayFence = expectation === null ? result.target : expectation.node;
  for (const fence of result.fences) {
    const after =
      fence.afterFaultMs === null ? "" : ` ${fence.afterFaultMs.toFixed(0)} ms after the fault`;
    const by = fence.by === null ? "not recorded by the cluster" : `by ${fence.by}`;
    if (fence.node !== mayFence || fence.phase === "before the fault") {
      failures.push(
        `the cluster fenced ${fence.node} (${fence.phase}${after}, ${by}), which this step's fault did not ${fence.node === result.target && fence.phase !== "before the fault" ? "get lost" : "touch"}${expectation === null || expectation.node === result.target ? "" : ` (only ${expectation.node} may be: ${expectation.reason})`}`,
      );
      continue;
    }
    notes.push(
      `the cluster fenced ${fence.node}${after} (${fence.phase}, ${by})${expectation !== null && !expectation.expected ? `; not expected: ${expectation.reason}` : ""}`,
    );
  }
  if (expectation?.expected === true && fenceInTime(result) === undefined) {
    const late = result.fences.find((f) => f.node === expectation.node && f.afterFaultMs !== null);
    failures.push(
      `fencing expected of ${expectation.node} (${expectation.reason}), but it was not fenced within ${expectation.withinMs} ms of the fault (${late === undefined ? "not at all" : `only ${late.afterFaultMs!.toFixed(0)} ms after it`}): its resources stayed blocked meanwhile`,
    );
  }
  return { notes, failures };
}

interface FencedHost {
  host: number;
  node: string;
  calledAtMs: number | null;
  atMs: number;
  /** Already handed to a step's report. */
  attributed: boolean;
}

/** Follows fence_lab's log; see the module comment. */
export class FenceTracker {
  readonly logPath: string;
  readonly lockDir: string;
  /** Every successful fence, in order. */
  private readonly fenced: FencedHost[] = [];
  /** fence_lab calls that failed, one line each. */
  readonly failedCalls: string[] = [];
  /** Fenced hosts the run has not powered on since. */
  private readonly pending = new Set<number>();
  /** Calls begun and not yet ended, by plug. */
  private readonly open = new Map<string, number>();
  private consumed = 0;
  private polling: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly t: TakeoverLab,
    private readonly log: (line: string) => void,
  ) {
    this.logPath = join(t.lab.dir, "fence-lab.log");
    this.lockDir = join(t.lab.dir, "fence-locks");
  }

  /** Before the cluster starts: the lock directory fence_lab expects. */
  static async prepare(
    lab: Lab,
    delayMs: Record<string, number> = {},
  ): Promise<Partial<RawConfig>> {
    await mkdir(join(lab.dir, "fence-locks"), { recursive: true });
    return fencingConfig(
      lab,
      join(lab.dir, "fence-lab.log"),
      join(lab.dir, "fence-locks"),
      delayMs,
    );
  }

  /** Keeps reading fence_lab's log in the background until stop(). */
  start(): void {
    this.timer ??= setInterval(() => void this.poll(), POLL_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads what fence_lab logged since the last call; records every new fence. */
  poll(): Promise<void> {
    // One reader at a time: two would both take the same new lines.
    this.polling = this.polling.then(() => this.readNew()).catch(() => undefined);
    return this.polling;
  }

  private async readNew(): Promise<void> {
    const text = await readFile(this.logPath, "utf8").catch(() => "");
    // Only whole lines: fence_lab may be half-way through one.
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    const fresh = complete.slice(this.consumed);
    this.consumed = complete.length;
    for (const line of parseFenceLog(fresh)) {
      if (line.begin) {
        this.open.set(line.plug, line.atMs);
        continue;
      }
      const calledAtMs = this.open.get(line.plug) ?? null;
      this.open.delete(line.plug);
      const host = this.t.lab.hosts.findIndex((h) => h.ns === line.plug);
      if (line.exit !== 0) {
        this.failedCalls.push(
          `${line.action} of ${host < 0 ? line.plug : this.t.name(host)} failed (exit ${line.exit}) at ${new Date(line.atMs).toISOString()}`,
        );
        continue;
      }
      if (!powersOff(line.action) || host < 0) continue;
      this.record(host, calledAtMs, line.atMs);
    }
  }

  /**
   * From `atMs` on, nothing on the host counts as running or configured: as TakeoverLab.powerOff
   * records a power-off, so that the checkers treat both alike. A fence that comes after a
   * power-on stops the VIP watcher started by that power-on, which markOff ends here too.
   */
  private record(host: number, calledAtMs: number | null, atMs: number): void {
    const node = this.t.name(host);
    const offs = [...(this.t.powerOffs.get(node) ?? []), atMs].sort((a, b) => a - b);
    this.t.powerOffs.set(node, offs);
    this.t.watch.markOff(host, atMs);
    this.fenced.push({ host, node, calledAtMs, atMs, attributed: false });
    this.pending.add(host);
    this.log(
      `chaos: the cluster fenced ${node} (fence_lab done at ${new Date(atMs).toISOString()}${calledAtMs === null ? "" : `, ${(atMs - calledAtMs).toFixed(0)} ms after it was called`})`,
    );
  }

  /** Fenced hosts still to be powered on by the run. */
  pendingHosts(): number[] {
    return [...this.pending].sort((a, b) => a - b);
  }

  isPending(host: number): boolean {
    return this.pending.has(host);
  }

  /** The run powered the host on after its fence. */
  poweredOn(host: number): void {
    this.pending.delete(host);
  }

  /** How many times the host was fenced so far. */
  count(host: number): number {
    return this.fenced.filter((f) => f.host === host).length;
  }

  /**
   * The fence that ended an agent of `host` which exited at `exitedAtMs`, if one did: waits while
   * a fence of that host is under way (its log line comes once every process is gone).
   */
  async fenceOf(host: number, exitedAtMs: number): Promise<{ atMs: number } | undefined> {
    const plug = this.t.lab.host(host).ns;
    const deadline = Date.now() + FENCE_LOG_GRACE_MS;
    for (;;) {
      await this.poll();
      const found = this.fenced.find(
        (f) =>
          f.host === host &&
          exitedAtMs >= (f.calledAtMs ?? f.atMs - FENCE_TIMEOUT_MS) - 100 &&
          exitedAtMs <= f.atMs + 1_000,
      );
      if (found !== undefined) return found;
      // No fence under way (one begun over FENCE_TIMEOUT_MS ago was killed by the cluster):
      // whatever ended the agent, it was not fence_lab.
      const begunAtMs = this.open.get(plug);
      const underWay = begunAtMs !== undefined && begunAtMs > Date.now() - FENCE_TIMEOUT_MS - 1_000;
      if (!underWay || Date.now() > deadline) return undefined;
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  /**
   * The fences not yet reported, as records of `result`'s step (or of no step, for fences during
   * setup or after the last step), with who fenced as the cluster recorded it.
   */
  attribute(result: StepResult | null, history: readonly FenceEvent[]): FenceRecord[] {
    const records: FenceRecord[] = [];
    const used = new Set<FenceEvent>();
    for (const fence of this.fenced) {
      if (fence.attributed) continue;
      fence.attributed = true;
      // The cluster records a fence once fence_lab has returned, so at or after its log line.
      const recorded = history.find(
        (e) =>
          e.ok &&
          e.node === fence.node &&
          !used.has(e) &&
          e.atMs >= fence.atMs - 100 &&
          e.atMs <= fence.atMs + 30_000,
      );
      if (recorded !== undefined) used.add(recorded);
      const faultAtMs = result?.faultAtMs ?? null;
      let phase: FenceRecord["phase"] = "outside any step";
      if (result !== null) {
        if (faultAtMs === null || fence.atMs < faultAtMs) phase = "before the fault";
        else if (result.healAtMs === null || fence.atMs <= result.healAtMs)
          phase = "during the fault";
        else phase = "after the heal";
      }
      records.push({
        node: fence.node,
        calledAtMs: fence.calledAtMs,
        atMs: fence.atMs,
        step: result?.step.index ?? null,
        fault: result?.kind ?? null,
        target: result?.target ?? null,
        afterFaultMs: faultAtMs === null ? null : fence.atMs - faultAtMs,
        phase,
        by: recorded?.by ?? null,
      });
    }
    return records;
  }

  /** Takes the host's lock (see the module comment); resolves with its release. */
  lockHost(host: number): Promise<HostLock> {
    return HostLock.take(join(this.lockDir, `${this.t.lab.host(host).ns}.lock`));
  }
}

/**
 * flock(1) holding a lock file for the run, in the root namespace: it runs `cat` until the run
 * closes its stdin. Started and, if need be, killed by its own PID only.
 */
export class HostLock {
  private constructor(private readonly child: ChildProcess) {}

  static async take(file: string): Promise<HostLock> {
    // --close: only flock itself holds the lock, so killing it always releases it.
    const child = spawn(
      "flock",
      [
        "--exclusive",
        "--close",
        "--timeout",
        String(LOCK_WAIT_MS / 1000),
        file,
        "-c",
        "echo held; exec cat >/dev/null",
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const lock = new HostLock(child);
    await new Promise<void>((resolvePromise, reject) => {
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
      });
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString("utf8").includes("held")) resolvePromise();
      });
      child.once("error", reject);
      child.once("exit", (code) =>
        reject(new Error(`flock ${file} ended (exit ${code}) before it held the lock: ${stderr}`)),
      );
    });
    return lock;
  }

  async release(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((done) => this.child.once("exit", () => done()));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 2_000);
    await exited;
    clearTimeout(timer);
  }
}
