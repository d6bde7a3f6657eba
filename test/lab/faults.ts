/**
 * Link faults as nftables netdev tables inside a host's namespace: one table per host per link,
 * with an ingress and an egress hook on ethL. netdev hooks see every frame (ARP included), which
 * inet rules would miss; egress hooks need kernel >= 5.16. The table is rendered from the link's
 * whole fault state and swapped atomically, so a cut and a loss on one link compose.
 */
import { run } from "./command.js";
import { device, nftTableName } from "./names.js";

export type Direction = "both" | "in" | "out";

export interface LinkFaultState {
  /** Everything dropped in this direction. */
  cut: Direction | null;
  /** Random drop in this direction; percent in 0..100 with 0.01 resolution. */
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

function covers(direction: Direction | null, hook: "ingress" | "egress"): boolean {
  if (direction === null) return false;
  return direction === "both" || (direction === "in") === (hook === "ingress");
}

function ruleFor(state: LinkFaultState, hook: "ingress" | "egress"): string | null {
  if (covers(state.cut, hook)) return "drop";
  if (state.loss !== null && covers(state.loss.direction, hook)) {
    const threshold = Math.round(state.loss.percent * (LOSS_SCALE / 100));
    return `numgen random mod ${LOSS_SCALE} < ${threshold} drop`;
  }
  return null;
}

/**
 * An nft script that replaces the link's table with one matching `state`, or removes it when
 * there is nothing to drop. The leading `table` line creates the table if missing so the
 * `delete` cannot fail: the whole script is one atomic transaction either way.
 */
export function renderLinkFilter(link: number, state: LinkFaultState): string {
  const table = `table netdev ${nftTableName(link)}`;
  const lines = [table, `delete ${table}`];
  const chains: string[] = [];
  for (const hook of ["ingress", "egress"] as const) {
    const rule = ruleFor(state, hook);
    if (rule === null) continue;
    chains.push(
      `  chain ${hook}_filter {`,
      `    type filter hook ${hook} device "${device(link)}" priority ${HOOK_PRIORITY}; policy accept;`,
      `    ${rule}`,
      "  }",
    );
  }
  if (chains.length > 0) lines.push(`${table} {`, ...chains, "}");
  return `${lines.join("\n")}\n`;
}

/** Applies fault states per (namespace, link), one change at a time per link so the last wins. */
export class LinkFaults {
  private readonly states = new Map<string, LinkFaultState>();
  private readonly queues = new Map<string, Promise<void>>();

  state(ns: string, link: number): LinkFaultState {
    return this.states.get(key(ns, link)) ?? NO_FAULTS;
  }

  update(
    ns: string,
    link: number,
    change: (current: LinkFaultState) => LinkFaultState,
  ): Promise<void> {
    const k = key(ns, link);
    const previous = this.queues.get(k) ?? Promise.resolve();
    // Rendering inside the queue means a later change always sees, and applies, the newest state.
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const state = change(this.state(ns, link));
        await run("ip", ["netns", "exec", ns, "nft", "-f", "-"], {
          input: renderLinkFilter(link, state),
        });
        if (state.cut === null && state.loss === null) this.states.delete(k);
        else this.states.set(k, state);
      });
    this.queues.set(k, next);
    return next;
  }
}

function key(ns: string, link: number): string {
  return `${ns}/${link}`;
}
