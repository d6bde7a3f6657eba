/**
 * The chaos schedule (pure): from a seed, an endless sequence of steps, each one fault on one
 * host of a 3-node cluster (or of a two-node one, ScheduleOptions.twoNode), held for a while,
 * then healed, then a quiet settle. Nothing here
 * touches a lab: test/chaos/run.ts carries the steps out.
 *
 * Invariant: at most one host is down, isolated, paused or without its agent at any time. Every step faults exactly
 * one target host and heals it before the next step starts, so two of the three votes always
 * remain: quorum survives, and "the resources are back within a bound after the heal" is a fair
 * demand. (A step may add light random loss on one link of another host: lossy, not lost.)
 * In two-node mode the lost host's vote cannot be spared: the survivor fences it and goes on
 * alone, its peer's vote standing in (src/fencing/two-node-survivor.ts).
 *
 * Randomness: SeededRandom from the simulator (src/sim/random.ts, xoshiro128**), one stream per
 * purpose, so the same seed gives the same steps on every machine. Who the leader is, or where
 * the service runs, is only known when the step runs: targets such as "leader" and "active" are
 * resolved then (run.ts records the host it picked).
 */
import { SeededRandom } from "../../src/sim/random.js";

/** Same strings as test/lab/faults.ts's Direction. */
export type Direction = "both" | "in" | "out";

/** Which host a step faults; "leader" and "active" are resolved when the step runs. */
export type HostTarget =
  | { role: "host"; index: number }
  /** Whoever is the Raft leader at that moment. */
  | { role: "leader" }
  /** The host running the service group at that moment. */
  | { role: "active" };

export type Fault =
  /** Links down, SIGKILL of everything; healed by a power-on (volatile state cleared, agent restarted). */
  | { kind: "power-off"; target: HostTarget }
  /** A power-off of whoever is the Raft leader when the step runs. */
  | { kind: "leader-kill" }
  /** Both directions of one link cut: the other link still carries everything. */
  | { kind: "link-cut"; target: HostTarget; link: number }
  /** Every link cut in both directions: the host is alone. */
  | { kind: "isolate"; target: HostTarget }
  /** One direction only, on one link or on every link ("all"). */
  | { kind: "one-way-cut"; target: HostTarget; links: number | "all"; direction: "in" | "out" }
  /** Random drop of `percent` % of frames, on one link or every link, in `direction`. */
  | {
      kind: "loss";
      target: HostTarget;
      links: number | "all";
      percent: number;
      direction: Direction;
    }
  /**
   * SIGKILL of the agent's process group alone: the host, its links, its addresses, its node
   * guard and its resources (own groups) stay. The guard sees the agent gone and stops what it
   * held (or fences the host with the lab's self-fence); healed by starting the agent again.
   */
  | { kind: "agent-kill"; target: HostTarget }
  /**
   * SIGSTOP of the agent's process group (only the agent: its resources, its node guard and the
   * test's watchers keep running), SIGCONT after `holdMs`. A long pause outlasts the guard's
   * patience (half the follower lease): the guard kills the paused agent and stops what it held,
   * and the heal starts the agent again.
   */
  | { kind: "pause"; target: HostTarget; long: boolean };

export type FaultKind = Fault["kind"] | "long-pause";

/** The label a fault is counted under in the summary. */
export function kindOf(fault: Fault): FaultKind {
  return fault.kind === "pause" && fault.long ? "long-pause" : fault.kind;
}

/** A change of the replicated configuration, resolved against what it holds when it runs. */
export type ConfigChange = "add-marker" | "set-marker-param" | "remove-marker";

export interface Step {
  /** 1-based, for messages ("step 4 of seed 7"). */
  index: number;
  /** Wait before the fault, so it lands at a random phase of heartbeats and monitors. */
  phaseMs: number;
  fault: Fault;
  /** How long the fault lasts before it is healed (for a pause: how long the agent is stopped). */
  holdMs: number;
  /** Light loss on one link of a host other than the target, for the duration of the hold. */
  background: { otherPick: 0 | 1; link: number; percent: number } | null;
  /** A configuration change applied before the fault, once the cluster is settled. */
  configBefore: ConfigChange | null;
  /** A configuration change applied during the hold, through a host the fault does not touch. */
  configDuring: ConfigChange | null;
  /** Quiet time after recovery, before the next step. */
  settleMs: number;
}

export interface ScheduleOptions {
  /** Lab links (2 by default). */
  links?: number;
  /**
   * Two-node mode: 2 hosts instead of 3, and the fence race weighed more. Every fault keeps its
   * meaning there: isolating either host is a partition of the two (both fence, one survives),
   * a one-way cut of every link makes exactly one of them lose the other, a power-off or a
   * leader kill leaves the other alone; one link cut, loss and short pauses must lose nobody.
   */
  twoNode?: boolean;
  /**
   * Agent pauses of 2–4 s, longer than the follower lease (900 ms with the default profile). On
   * by default: the node guard kills the hung agent and stops its resources before the leader
   * starts them elsewhere. Off only to replay a schedule drawn without them.
   */
  longPauses?: boolean;
}

/** Short pauses stay below this: under the follower lease (900 ms) with room for scheduling. */
export const SHORT_PAUSE_MAX_MS = 550;
export const LONG_PAUSE_MS = { min: 2_000, max: 4_000 } as const;

interface Weighted<T> {
  weight: number;
  value: T;
}

const KINDS: ReadonlyArray<Weighted<Fault["kind"]>> = [
  { weight: 3, value: "power-off" },
  { weight: 3, value: "leader-kill" },
  { weight: 2, value: "link-cut" },
  { weight: 3, value: "isolate" },
  { weight: 3, value: "one-way-cut" },
  { weight: 2, value: "loss" },
  { weight: 3, value: "pause" },
  { weight: 2, value: "agent-kill" },
];

/** Two-node mode: partitions (the fence race) and one-way cuts (one side fences) come up more. */
const TWO_NODE_KINDS: ReadonlyArray<Weighted<Fault["kind"]>> = [
  { weight: 3, value: "power-off" },
  { weight: 2, value: "leader-kill" },
  { weight: 2, value: "link-cut" },
  { weight: 5, value: "isolate" },
  { weight: 4, value: "one-way-cut" },
  { weight: 2, value: "loss" },
  { weight: 3, value: "pause" },
  { weight: 2, value: "agent-kill" },
];

const CONFIG_CHANGES: readonly ConfigChange[] = ["add-marker", "set-marker-param", "remove-marker"];

function weighted<T>(random: SeededRandom, items: ReadonlyArray<Weighted<T>>): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let draw = random.next() * total;
  for (const item of items) {
    draw -= item.weight;
    if (draw < 0) return item.value;
  }
  return items[items.length - 1]!.value;
}

function target(random: SeededRandom, hosts: number, leader = true): HostTarget {
  // Faults on the host that runs the service, or that leads, are the ones that move things.
  const roll = random.next();
  if (roll < 0.35) return { role: "active" };
  // A power-off of the leader is a step of its own ("leader-kill").
  if (roll < 0.5 && leader) return { role: "leader" };
  return { role: "host", index: random.int(0, hosts - 1) };
}

/** One step, drawn from `random`. */
export function drawStep(random: SeededRandom, index: number, options: ScheduleOptions): Step {
  const links = options.links ?? 2;
  const twoNode = options.twoNode === true;
  const hosts = twoNode ? 2 : 3;
  const kind = weighted(random, twoNode ? TWO_NODE_KINDS : KINDS);
  let fault: Fault;
  let holdMs: number;
  switch (kind) {
    case "power-off":
      fault = { kind, target: target(random, hosts, false) };
      holdMs = random.int(1_000, 5_000);
      break;
    case "leader-kill":
      fault = { kind };
      holdMs = random.int(1_000, 5_000);
      break;
    case "link-cut":
      fault = { kind, target: target(random, hosts), link: random.int(0, links - 1) };
      holdMs = random.int(1_000, 4_000);
      break;
    case "isolate":
      fault = { kind, target: target(random, hosts) };
      holdMs = random.int(1_000, 5_000);
      break;
    case "one-way-cut":
      fault = {
        kind,
        target: target(random, hosts),
        links: random.chance(0.6) ? "all" : random.int(0, links - 1),
        direction: random.pick(["in", "out"] as const),
      };
      holdMs = random.int(1_000, 5_000);
      break;
    case "loss": {
      const all = random.chance(0.5);
      fault = {
        kind,
        target: target(random, hosts),
        links: all ? "all" : random.int(0, links - 1),
        percent: all ? random.int(5, 30) : random.int(5, 40),
        direction: random.pick(["both", "both", "in", "out"] as const),
      };
      holdMs = random.int(2_000, 6_000);
      break;
    }
    case "agent-kill":
      fault = { kind, target: target(random, hosts) };
      holdMs = random.int(1_000, 5_000);
      break;
    case "pause": {
      const long = options.longPauses !== false && random.chance(0.4);
      fault = { kind, target: target(random, hosts), long };
      holdMs = long
        ? random.int(LONG_PAUSE_MS.min, LONG_PAUSE_MS.max)
        : random.int(100, SHORT_PAUSE_MAX_MS);
      break;
    }
  }
  // With two hosts, the only other host is the first of the others.
  const background = random.chance(0.2)
    ? {
        otherPick: twoNode ? 0 : random.pick([0, 1] as const),
        link: random.int(0, links - 1),
        percent: random.int(5, 15),
      }
    : null;
  const configBefore = random.chance(0.45) ? random.pick(CONFIG_CHANGES) : null;
  // A change in the middle of a short pause proves nothing: the hold is over before it commits.
  const configDuring = holdMs >= 1_500 && random.chance(0.35) ? random.pick(CONFIG_CHANGES) : null;
  return {
    index,
    phaseMs: random.int(0, 300),
    fault,
    holdMs,
    background,
    configBefore,
    configDuring,
    settleMs: random.int(500, 2_000),
  };
}

/** The endless schedule of `seed`; take as many steps as the budget allows. */
export function* schedule(seed: number, options: ScheduleOptions = {}): Generator<Step> {
  const random = new SeededRandom(seed, "chaos-schedule");
  for (let index = 1; ; index++) yield drawStep(random, index, options);
}

/** The first `count` steps of `seed`'s schedule. */
export function firstSteps(seed: number, count: number, options: ScheduleOptions = {}): Step[] {
  const steps: Step[] = [];
  for (const step of schedule(seed, options)) {
    if (steps.length >= count) break;
    steps.push(step);
  }
  return steps;
}

/** One line per step, for logs and failure messages. */
export function describeStep(step: Step): string {
  const f = step.fault;
  const who = (t: HostTarget) => (t.role === "host" ? `h${t.index + 1}` : t.role);
  const linksOf = (l: number | "all") => (l === "all" ? "every link" : `link ${l}`);
  let what: string;
  switch (f.kind) {
    case "power-off":
      what = `power-off ${who(f.target)}`;
      break;
    case "leader-kill":
      what = "power-off the leader";
      break;
    case "link-cut":
      what = `cut link ${f.link} of ${who(f.target)} (both directions)`;
      break;
    case "isolate":
      what = `isolate ${who(f.target)} (every link, both directions)`;
      break;
    case "one-way-cut":
      what = `cut ${f.direction === "in" ? "inbound" : "outbound"} on ${linksOf(f.links)} of ${who(f.target)}`;
      break;
    case "loss":
      what = `${f.percent}% loss (${f.direction}) on ${linksOf(f.links)} of ${who(f.target)}`;
      break;
    case "agent-kill":
      what = `SIGKILL of ${who(f.target)}'s agent (the host stays up)`;
      break;
    case "pause":
      what = `${f.long ? "long " : ""}pause of ${who(f.target)}'s agent`;
      break;
  }
  const extras: string[] = [];
  if (step.background !== null)
    extras.push(
      `+${step.background.percent}% loss on link ${step.background.link} of another host`,
    );
  if (step.configBefore !== null) extras.push(`config before: ${step.configBefore}`);
  if (step.configDuring !== null) extras.push(`config during: ${step.configDuring}`);
  return `step ${step.index}: ${what} for ${step.holdMs} ms${extras.length > 0 ? ` (${extras.join("; ")})` : ""}`;
}
