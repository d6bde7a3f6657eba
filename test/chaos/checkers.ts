/**
 * The safety and availability checkers, from what the lab observed outside the agents: the VIP
 * watchers' kernel notifications, the echo service's events.log (with power-offs and fences
 * closing a copy), and the client's probes. Never relaxed by a mode: a mode only adds facts
 * (when a host went off) that every checker takes into account the same way.
 */
import { cp, lstat, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  clientOutage,
  echoIntervals,
  type Interval,
  nowMs,
  type Overlap,
  overlaps,
  type Probe,
  readEchoEvents,
  type TakeoverLab,
} from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";
import type { DoubleActive, StepResult } from "./types.js";

/** Past the bound, how much longer to wait to measure how late it was before giving up. */
export const BEYOND_BOUND_MS = 30_000;
/** Agent log lines around a double-active interval worth reading. */
const AGENT_EVIDENCE =
  /lease_lost|lease_acquired|stopping resource|starting resource|node_released|resource_targets|became_leader|stepped_down|node_dead|local_stall|fenc|guard/i;
const EVIDENCE_BEFORE_MS = 2_000;
const EVIDENCE_AFTER_MS = 500;
/** Per agent log file; each line cut to EVIDENCE_LINE_CHARS. */
const EVIDENCE_LINES = 25;
const EVIDENCE_LINE_CHARS = 400;

export class Checkers {
  constructor(
    private readonly t: TakeoverLab,
    private readonly boundMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Every interval during which the VIP or the service was on two hosts, with evidence; each
   * attributed to the step of `steps` during which it began.
   */
  async doubleActive(steps: readonly StepResult[], withEvidence = true): Promise<DoubleActive[]> {
    const t = this.t;
    const atMs = nowMs();
    const vipIntervals = t.watch.intervals(atMs);
    const events = await readEchoEvents(t.lab.dir);
    const echo = echoIntervals(events, t.powerOffs, atMs);
    const found: DoubleActive[] = [];
    const add = async (what: "VIP" | "service", list: Overlap[], intervals: Interval[]) => {
      for (const o of list) {
        const step = steps.find((s) => o.fromMs >= s.startedAtMs && o.fromMs <= s.endedAtMs);
        found.push({
          what,
          nodes: o.nodes,
          fromMs: o.fromMs,
          toMs: o.toMs,
          ms: o.toMs - o.fromMs,
          step: step?.step.index ?? null,
          evidence: withEvidence ? await this.evidence(what, o, intervals) : [],
        });
      }
    };
    await add("VIP", overlaps(vipIntervals), vipIntervals);
    await add("service", overlaps(echo), echo);
    return found;
  }

  /** Raw lines around an overlap: watcher output or events.log, and the agents' logs. */
  private async evidence(what: "VIP" | "service", o: Overlap, intervals: Interval[]) {
    const dir = this.t.lab.dir;
    const from = o.fromMs - EVIDENCE_BEFORE_MS;
    const to = o.toMs + EVIDENCE_AFTER_MS;
    const lines: string[] = [];
    lines.push(
      `${what} intervals of ${o.nodes.join(", ")}: ${JSON.stringify(intervals.filter((i) => o.nodes.includes(i.node) && i.toMs >= from && i.fromMs <= to))}`,
    );
    const files = await readdir(dir);
    if (what === "VIP") {
      for (const file of files.filter((f) => /-bash-\d+\.out\.log$/.test(f))) {
        const text = await readFile(join(dir, file), "utf8").catch(() => "");
        for (const line of text.split("\n")) {
          const at = Number(line.slice(0, line.indexOf(" "))) * 1000;
          if (at >= from && at <= to) lines.push(`${file}: ${line}`);
        }
      }
    } else {
      const text = await readFile(join(dir, "events.log"), "utf8").catch(() => "");
      for (const line of text.split("\n")) {
        const at = Number(line.split(" ")[0]);
        if (at >= from && at <= to) lines.push(`events.log: ${line}`);
      }
      lines.push(`power-offs: ${JSON.stringify([...this.t.powerOffs])}`);
    }
    for (const file of files.filter((f) => /^h\d+-node-\d+\.(out|err)\.log$/.test(f)).sort()) {
      const text = await readFile(join(dir, file), "utf8").catch(() => "");
      let count = 0;
      for (const line of text.split("\n")) {
        const time = /"time":"([^"]+)"/.exec(line)?.[1];
        const at = time === undefined ? Number.NaN : Date.parse(time);
        if (!(at >= from && at <= to) || !AGENT_EVIDENCE.test(line)) continue;
        if (count++ >= EVIDENCE_LINES) break;
        lines.push(
          `${file}: ${line.length > EVIDENCE_LINE_CHARS ? `${line.slice(0, EVIDENCE_LINE_CHARS)}…` : line}`,
        );
      }
    }
    return lines;
  }

  /**
   * The availability checker for one step: the first answer from `result.groupAfter` to a request
   * sent after the heal, within the bound; and the client's longest gap since the step began.
   */
  async serviceBack(result: StepResult): Promise<void> {
    const healAtMs = result.healAtMs!;
    const back = await this.waitForService(healAtMs, result.groupAfter!);
    if (back === undefined) {
      result.failures.push(
        `the client got no answer from ${result.groupAfter} within ${this.boundMs + BEYOND_BOUND_MS} ms of the heal`,
      );
      return;
    }
    result.backAtMs = back.doneMs;
    result.backAfterHealMs = Math.max(0, back.doneMs - healAtMs);
    if (result.backAfterHealMs > this.boundMs) {
      result.failures.push(
        `the service answered ${result.backAfterHealMs.toFixed(0)} ms after the heal, over the ${this.boundMs} ms bound`,
      );
    }
    const probes = await this.t.prober!.probes();
    const outage = clientOutage(probes, result.startedAtMs, back.doneMs);
    result.unavailabilityMs = outage.outageMs;
    result.outage = {
      fromMs: outage.fromMs,
      toMs: outage.toMs,
      answeredBy: [
        ...(outage.before === undefined ? [] : [outage.before]),
        ...outage.answeredBy,
      ].filter((name, i, all) => i === 0 || all[i - 1] !== name),
    };
  }

  /** The first answer from `node` to a request sent after `sinceMs`. */
  private async waitForService(sinceMs: number, node: string): Promise<Probe | undefined> {
    const prober = this.t.prober!;
    try {
      return await waitFor(
        "the service to answer the client",
        async () => {
          const probes = await prober.probes();
          let found: Probe | undefined;
          // Lines are appended as answers complete: scan back only as far as the heal.
          for (let i = probes.length - 1; i >= 0; i--) {
            const p = probes[i]!;
            if (p.doneMs < sinceMs) break;
            if (!p.ok || p.answer !== node || p.sentMs < sinceMs) continue;
            if (found === undefined || p.doneMs < found.doneMs) found = p;
          }
          return found;
        },
        {
          timeoutMs: Math.max(1_000, sinceMs + this.boundMs + BEYOND_BOUND_MS - nowMs()),
          intervalMs: 50,
        },
      );
    } catch {
      return undefined;
    }
  }

  /** A copy of the lab's directory (sockets left out) for the report. */
  async keepEvidence(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await cp(this.t.lab.dir, dir, {
      recursive: true,
      filter: async (source) => !(await lstat(source)).isSocket(),
    });
    this.log(`chaos: lab directory copied to ${dir}`);
  }
}
