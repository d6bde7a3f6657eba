import type { SeededRandom } from "../sim/random.js";
import type { World } from "./world.js";

/** What happens to datagrams from one host to another. */
interface PathState {
  cut: boolean;
  /** When the path was last cut or mended (virtual ms). */
  changedAtMs: number;
  /** Share of datagrams lost, 0..1. */
  loss: number;
  /** Extra delay (ms) on top of the base, drawn per datagram up to this. */
  jitterMs: number;
}

/** Base one-way delay of a datagram on the simulated network (ms). */
const BASE_DELAY_MS = 0.2;

/**
 * The simulated network between hosts: per direction cut, loss and jitter (which also reorders).
 * A delivery resolves its receiver when it arrives, so a datagram sent to a host that restarted
 * meanwhile reaches the new run, as UDP would.
 */
export class SimNetwork {
  private readonly paths = new Map<string, PathState>();
  private healedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly world: World,
    private readonly random: SeededRandom,
  ) {}

  send(from: number, to: number, deliver: () => void): void {
    const path = this.path(from, to);
    if (path.cut || (path.loss > 0 && this.random.chance(path.loss))) return;
    const delayMs = BASE_DELAY_MS + (path.jitterMs > 0 ? this.random.next() * path.jitterMs : 0);
    this.world.at(this.world.nowMs() + delayMs, deliver);
  }

  cut(from: number, to: number, cut: boolean): void {
    const path = this.path(from, to);
    if (path.cut !== cut) path.changedAtMs = this.world.nowMs();
    path.cut = cut;
  }

  degrade(from: number, to: number, loss: number, jitterMs: number): void {
    const path = this.path(from, to);
    path.loss = loss;
    path.jitterMs = jitterMs;
  }

  /** Whether datagrams from one host reach the other now (not cut; loss aside). */
  reaches(from: number, to: number): boolean {
    return this.paths.get(`${from}>${to}`)?.cut !== true;
  }

  /** Since when datagrams from one host reach the other without a cut (-Infinity: always). */
  reachesSinceMs(from: number, to: number): number | null {
    const path = this.paths.get(`${from}>${to}`);
    if (path === undefined) return this.healedAtMs;
    return path.cut ? null : path.changedAtMs;
  }

  heal(): void {
    this.paths.clear();
    this.healedAtMs = this.world.nowMs();
  }

  private path(from: number, to: number): PathState {
    const key = `${from}>${to}`;
    let path = this.paths.get(key);
    if (path === undefined) {
      path = { cut: false, changedAtMs: this.healedAtMs, loss: 0, jitterMs: 0 };
      this.paths.set(key, path);
    }
    return path;
  }
}
