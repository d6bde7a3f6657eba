/**
 * What the director forwards, from the service and which real servers are healthy: pure, shared
 * by both backends (nft-script.ts, ipvs-commands.ts). New connections go to the healthy servers
 * by weight; with none healthy, to the sorry server; with no sorry server either, nowhere (the
 * VIP is this node's own address: the kernel refuses them itself, a TCP reset or ICMP port
 * unreachable, so clients fail at once instead of waiting).
 */
import type {
  Endpoint,
  RealServer,
  Scheduler,
  ServiceProtocol,
  VirtualService,
} from "../../../resource-model/virtual-service.js";

export interface WeightedEndpoint extends Endpoint {
  /** At least 1. */
  weight: number;
}

export interface DirectorRules {
  family: 4 | 6;
  address: string;
  port: number;
  protocol: ServiceProtocol;
  scheduler: Scheduler;
  masquerade: boolean;
  /** Where new connections go, each by its share; empty: refused. */
  targets: WeightedEndpoint[];
  /** The targets are the sorry server alone: no real server is healthy. */
  sorry: boolean;
}

/**
 * A real server is healthy unless its check says failing: one without a check always is, and
 * one whose check has no verdict yet (the agent just started) is until the check fails it, as
 * keepalived takes its real servers up at start. Its check runs on every node that may direct,
 * so a director taking over already knows.
 */
export function isHealthy(
  server: RealServer,
  verdictOf: (check: string) => "unknown" | "passing" | "failing",
): boolean {
  return server.check === undefined || verdictOf(server.check) !== "failing";
}

export function directorRules(
  service: VirtualService,
  healthy: (server: RealServer) => boolean,
): DirectorRules {
  // rr spreads evenly whatever the weights; weight 0 drains a server under every scheduler.
  const serving = service.realServers
    .filter((server) => server.weight > 0 && healthy(server))
    .map((server) => ({
      address: server.address,
      port: server.port,
      weight: service.scheduler === "rr" ? 1 : server.weight,
    }));
  const sorry = serving.length === 0 && service.sorryServer !== undefined;
  return {
    family: service.family,
    address: service.address,
    port: service.port,
    protocol: service.protocol,
    scheduler: service.scheduler,
    masquerade: service.masquerade,
    targets: sorry && service.sorryServer ? [{ ...service.sorryServer, weight: 1 }] : serving,
    sorry,
  };
}

/**
 * The targets' indices in the order new connections take them: each index as many times as its
 * weight, interleaved (nginx's smooth weighted round robin) so that weights 3 and 1 give
 * A A B A rather than A A A B, and a short burst is spread as the weights say too.
 */
export function weightedSequence(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const current = weights.map(() => 0);
  const sequence: number[] = [];
  for (let slot = 0; slot < total; slot++) {
    let best = 0;
    weights.forEach((weight, index) => {
      current[index] = (current[index] ?? 0) + weight;
      if ((current[index] ?? 0) > (current[best] ?? 0)) best = index;
    });
    current[best] = (current[best] ?? 0) - total;
    sequence.push(best);
  }
  return sequence;
}

/** A run of slots [from, to] (inclusive) that go to one target. */
export interface SlotRange {
  from: number;
  to: number;
  target: number;
}

/** The sequence as ranges of consecutive equal slots (nft maps take intervals). */
export function slotRanges(sequence: readonly number[]): SlotRange[] {
  const ranges: SlotRange[] = [];
  sequence.forEach((target, slot) => {
    const last = ranges.at(-1);
    if (last !== undefined && last.target === target && last.to === slot - 1) last.to = slot;
    else ranges.push({ from: slot, to: slot, target });
  });
  return ranges;
}
