/**
 * Link faults as nftables netdev tables. netdev hooks see every frame (ARP included) before the
 * IP stack, which inet rules would miss. A link's table is rendered from its whole fault state and
 * swapped in one nft transaction, so a cut and a loss on one link compose.
 *
 * Where the hooks sit ("placement"):
 * - "host-egress": both hooks on the host's ethL, in the host's namespace: ingress for "in",
 *   egress for "out". The netdev egress hook needs Linux >= 5.16 and nft >= 1.0.1.
 * - "switch-ingress": the fallback without an egress hook. "in" stays on the host's ethL ingress;
 *   "out" moves to the ingress hook of the host's port on the switch: the frame leaves the host
 *   and dies on the wire, which is what a broken cable looks like anyway.
 */
import { run } from "./command.js";
import {
  device,
  type HostPlan,
  hostFaultTable,
  type LabPlan,
  switchFaultTable,
  switchPortName,
} from "./names.js";

export type Direction = "both" | "in" | "out";
export type FaultPlacement = "host-egress" | "switch-ingress";

export interface LinkFaultState {
  /** Everything dropped in this direction. */
  cut: Direction | null;
  /** Random drop in this direction; percent in (0, 100] with 0.01 resolution. */
  loss: { percent: number; direction: Direction } | null;
}

export const NO_FAULTS: LinkFaultState = { cut: null, loss: null };

/** Before any other filter: the lab's drop has to win over anything a test installs. */
const HOOK_PRIORITY = -500;
/** numgen draws in basis points so fractional loss (0.5 %) is expressible. */
const LOSS_SCALE = 10_000;

export function checkDirection(direction: string): Direction {
  if (direction === "both" || direction === "in" || direction === "out") return direction;
  throw new Error(`link fault direction must be "both", "in" or "out", got "${direction}"`);
}

export function checkLossPercent(percent: number): number {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new Error(`loss percent must be a number in 0..100, got ${percent}`);
  }
  return percent;
}

/** Direction as seen from the host: "in" is what reaches the host, "out" what it sends. */
type Flow = "in" | "out";

function covers(direction: Direction | null, flow: Flow): boolean {
  return direction === "both" || direction === flow;
}

/** The nft statement dropping `flow`'s frames, or null when `state` lets them pass. */
export function ruleFor(state: LinkFaultState, flow: Flow): string | null {
  if (covers(state.cut, flow)) return "drop";
  if (state.loss !== null && covers(state.loss.direction, flow)) {
    const threshold = Math.round(state.loss.percent * (LOSS_SCALE / 100));
    // nft rejects a bound outside the draw's range (0..9999): 0 % is no rule and 100 % a plain drop.
    if (threshold <= 0) return null;
    if (threshold >= LOSS_SCALE) return "drop";
    return `numgen random mod ${LOSS_SCALE} < ${threshold} drop`;
  }
  return null;
}

interface Chain {
  hook: "ingress" | "egress";
  device: string;
  rule: string | null;
}

/**
 * An nft script that replaces `table` with one holding the chains that have a rule, or removes it
 * when none has. The leading `table` line creates the table if missing so the `delete` cannot
 * fail: the whole script is one atomic transaction either way.
 */
export function renderTable(table: string, chains: readonly Chain[]): string {
  const qualified = `table netdev ${table}`;
  const lines = [qualified, `delete ${qualified}`];
  const body: string[] = [];
  for (const chain of chains) {
    if (chain.rule === null) continue;
    body.push(
      `  chain ${chain.hook}_${chain.device.replaceAll("-", "_")} {`,
      `    type filter hook ${chain.hook} device "${chain.device}" priority ${HOOK_PRIORITY}; policy accept;`,
      `    ${chain.rule}`,
      "  }",
    );
  }
  if (body.length > 0) lines.push(`${qualified} {`, ...body, "}");
  return `${lines.join("\n")}\n`;
}

export interface NftScript {
  ns: string;
  script: string;
}

/** The nft scripts that make `host`'s `link` carry exactly the faults in `state`. */
export function renderLinkFaults(
  plan: LabPlan,
  host: HostPlan,
  link: number,
  state: LinkFaultState,
  placement: FaultPlacement,
): NftScript[] {
  const dev = device(link);
  const inbound: Chain = { hook: "ingress", device: dev, rule: ruleFor(state, "in") };
  if (placement === "host-egress") {
    const outbound: Chain = { hook: "egress", device: dev, rule: ruleFor(state, "out") };
    return [{ ns: host.ns, script: renderTable(hostFaultTable(link), [inbound, outbound]) }];
  }
  const port = switchPortName(plan.id, host, link);
  const outbound: Chain = { hook: "ingress", device: port, rule: ruleFor(state, "out") };
  return [
    { ns: host.ns, script: renderTable(hostFaultTable(link), [inbound]) },
    { ns: plan.switchNs, script: renderTable(switchFaultTable(plan.id, host, link), [outbound]) },
  ];
}

/** Applies fault states per (host, link), one change at a time per link so the last one wins. */
export class LinkFaults {
  private readonly states = new Map<string, LinkFaultState>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly plan: LabPlan,
    readonly placement: FaultPlacement,
  ) {}

  state(host: HostPlan, link: number): LinkFaultState {
    return this.states.get(key(host, link)) ?? NO_FAULTS;
  }

  update(
    host: HostPlan,
    link: number,
    change: (current: LinkFaultState) => LinkFaultState,
  ): Promise<void> {
    const k = key(host, link);
    const previous = this.queues.get(k) ?? Promise.resolve();
    // Rendering inside the queue means a later change always sees, and applies, the newest state.
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const state = change(this.state(host, link));
        for (const { ns, script } of renderLinkFaults(this.plan, host, link, state, this.placement))
          await run("ip", ["netns", "exec", ns, "nft", "-f", "-"], { input: script });
        if (state.cut === null && state.loss === null) this.states.delete(k);
        else this.states.set(k, state);
      });
    this.queues.set(k, next);
    return next;
  }
}

function key(host: HostPlan, link: number): string {
  return `${host.ns}/${link}`;
}
