/**
 * The configuration workload and its checker: harmless marker resources added, changed and
 * removed through `vigil config apply --base-version`, every acknowledged change kept in a ledger,
 * and the check that every agent ends up holding the last acknowledged one (nothing committed is
 * ever lost).
 */
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { controlGet } from "../../src/control/client.js";
import type { AppliedConfig } from "../../src/state/types.js";
import { nowMs, runVigil, type TakeoverLab } from "../support/takeover-lab.js";
import type { ConfigChange, Step } from "./scenario.js";
import type { StepResult } from "./types.js";

const here = fileURLToPath(new URL(".", import.meta.url));
/** examples/agents/marker: a do-nothing exec agent whose state is a file per resource and node. */
export const MARKER_AGENT = resolve(here, "../../examples/agents/marker");

/** How long every agent may take to show the last acknowledged configuration. */
const CONFIG_CONVERGE_MS = 15_000;
/** How long a configuration change may keep being retried (no leader during an election...). */
const APPLY_RETRY_MS = 15_000;
/** At most this many harmless marker resources exist at once. */
const MAX_MARKERS = 4;

/** The replicated configuration as /v1/config returns it. */
interface ConfigReply extends AppliedConfig {
  configurationVersion: number;
  stateVersion: number;
}

export interface LedgerEntry {
  /** 0: the service document applied at setup. */
  serial: number;
  step: number;
  version: number;
  text: string;
  markers: ReadonlyMap<string, number>;
  description: string;
}

/**
 * Every configuration change the cluster acknowledged, in order. Each document holds everything
 * before it (markers only accumulate or change), so the newest acknowledged text must be what
 * every agent holds; an older one, or another, means a committed change was lost.
 */
export class ConfigLedger {
  readonly acknowledged: LedgerEntry[] = [];
  /** Outcomes the CLI could not tell ("may or may not have been applied"): may still commit. */
  readonly uncertain: LedgerEntry[] = [];
  private nextMarker = 1;
  private serial = 0;

  last(): LedgerEntry {
    const last = this.acknowledged.at(-1);
    if (last === undefined) throw new Error("no configuration acknowledged yet");
    return last;
  }

  record(entry: LedgerEntry): void {
    this.acknowledged.push(entry);
    const i = this.uncertain.indexOf(entry);
    if (i >= 0) this.uncertain.splice(i, 1);
  }

  /** An uncertain change that did commit after all (found later on the agents). */
  promote(text: string, version: number): LedgerEntry | undefined {
    const entry = this.uncertain.find((e) => e.text === text);
    if (entry === undefined) return undefined;
    entry.version = version;
    this.uncertain.splice(0, this.uncertain.indexOf(entry) + 1);
    this.acknowledged.push(entry);
    return entry;
  }

  /** The next document: `change` resolved against the markers of the last acknowledged one. */
  next(
    change: ConfigChange,
    step: number,
    build: (markers: ReadonlyMap<string, number>) => Record<string, unknown>,
    seed: number,
  ): LedgerEntry {
    const markers = new Map(this.last().markers);
    let effective = change;
    if (markers.size === 0) effective = "add-marker";
    else if (effective === "add-marker" && markers.size >= MAX_MARKERS)
      effective = "set-marker-param";
    let description: string;
    switch (effective) {
      case "add-marker": {
        const id = `chaos-m${this.nextMarker++}`;
        markers.set(id, 1);
        description = `add ${id}`;
        break;
      }
      case "set-marker-param": {
        // The marker changed least often: every marker gets its turn.
        const [id, generation] = [...markers].sort((a, b) => a[1] - b[1])[0]!;
        markers.set(id, generation + 1);
        description = `${id} generation=${generation + 1}`;
        break;
      }
      case "remove-marker": {
        const [id] = [...markers.keys()];
        markers.delete(id!);
        description = `remove ${id}`;
        break;
      }
    }
    const serial = ++this.serial;
    const text = `# chaos seed ${seed}, configuration change ${serial} (step ${step}): ${description}\n${stringify(build(markers))}`;
    return { serial, step, version: -1, text, markers, description };
  }
}

/** Why an error is worth another try, and whether the change may have been applied anyway. */
export function classifyApplyError(message: string): { retry: boolean; uncertain: boolean } {
  const uncertain = /may or may not have been applied|may still be applied|did not answer within/i;
  const retry =
    /try again|no leader|cannot reach the agent|did not answer|not committed within|ECONNREFUSED|ENOENT/i;
  return { retry: retry.test(message), uncertain: uncertain.test(message) };
}

export type ApplyOutcome = { ok: true } | { ok: false; uncertain: boolean; error: string };

export class ConfigChanges {
  readonly ledger = new ConfigLedger();

  constructor(
    private readonly t: TakeoverLab,
    private readonly options: { seed: number; built?: boolean; markerDir: string },
    private readonly log: (line: string) => void,
  ) {}

  /** The service group of t.document(), with a header: the ledger knows the exact text. */
  async applyInitial(): Promise<void> {
    const initial = this.documentText(new Map(), "the service group");
    const first = await this.applyConfig(
      {
        serial: 0,
        step: 0,
        version: -1,
        text: initial,
        markers: new Map(),
        description: "service group",
      },
      this.t.hosts,
      true,
    );
    if (!first.ok) throw new Error(`the initial configuration was not applied: ${first.error}`);
  }

  private documentText(markers: ReadonlyMap<string, number>, description: string): string {
    return `# chaos seed ${this.options.seed}: ${description}\n${stringify(this.document(markers))}`;
  }

  private document(markers: ReadonlyMap<string, number>): Record<string, unknown> {
    const base = this.t.document();
    const resources = { ...(base.resources as Record<string, unknown>) };
    for (const [id, generation] of markers) {
      resources[id] = {
        agent: `exec:${MARKER_AGENT}`,
        params: { statedir: this.options.markerDir, generation: String(generation) },
        operations: { monitor: { interval_ms: 2_000, timeout_ms: 5_000 } },
      };
    }
    return { ...base, resources };
  }

  /** One change of the schedule, through the first running agent of `via`; recorded in `result`. */
  async change(
    change: ConfigChange,
    step: Step,
    via: readonly number[],
    result: StepResult,
  ): Promise<void> {
    const entry = this.ledger.next(change, step.index, (m) => this.document(m), this.options.seed);
    const outcome = await this.applyConfig(entry, via, false);
    if (outcome.ok) {
      result.configChanges.push(`#${entry.serial} ${entry.description} (v${entry.version})`);
      this.log(
        `chaos: configuration change #${entry.serial} ${entry.description}: version ${entry.version}`,
      );
    } else if (outcome.uncertain) {
      result.notes.push(`configuration change #${entry.serial} uncertain: ${outcome.error}`);
    } else {
      result.failures.push(
        `configuration change #${entry.serial} (${entry.description}) refused: ${outcome.error}`,
      );
    }
  }

  /**
   * `vigil config apply FILE --base-version V` through the first running agent of `via`, retried
   * while there is no leader. Records the change in the ledger once acknowledged (or once an
   * agent shows it after an answer that could not tell).
   */
  private async applyConfig(
    entry: LedgerEntry,
    via: readonly number[],
    initial: boolean,
  ): Promise<ApplyOutcome> {
    const t = this.t;
    const file = join(t.lab.dir, `chaos-config-${entry.serial}.yaml`);
    await writeFile(file, entry.text);
    const built = this.options.built === undefined ? {} : { built: this.options.built };
    const deadline = nowMs() + APPLY_RETRY_MS;
    let lastError = "no agent to apply through";
    let uncertain = false;
    for (let attempt = 0; nowMs() < deadline; attempt++) {
      const running = via.filter((h) => t.cluster.agent(h) !== undefined);
      const host = running[attempt % Math.max(1, running.length)];
      if (host === undefined) break;
      let base: number;
      try {
        base = initial
          ? (await this.readConfig(host)).configurationVersion
          : this.ledger.last().version;
      } catch (error) {
        lastError = (error as Error).message;
        await sleep(300);
        continue;
      }
      try {
        const out = await runVigil(
          [
            "config",
            "apply",
            file,
            "--base-version",
            String(base),
            "--socket",
            t.cluster.socketPath(host),
          ],
          built,
        );
        const match = /cluster state version (\d+)/.exec(out);
        if (match === null) throw new Error(`unexpected output of vigil config apply: ${out}`);
        entry.version = Number(match[1]);
        this.ledger.record(entry);
        return { ok: true };
      } catch (error) {
        lastError = (error as Error).message;
        const kind = classifyApplyError(lastError);
        uncertain ||= kind.uncertain;
        // Whatever the answer said, the cluster may hold the change: ask it.
        const shown = await this.readConfig(host).catch(() => undefined);
        if (shown?.text === entry.text) {
          entry.version = shown.version;
          this.ledger.record(entry);
          return { ok: true };
        }
        if (!kind.retry) break;
        await sleep(300);
      }
    }
    if (uncertain) this.ledger.uncertain.push(entry);
    return { ok: false, uncertain, error: lastError };
  }

  private readConfig(host: number): Promise<ConfigReply> {
    return controlGet<ConfigReply>(this.t.cluster.socketPath(host), "/v1/config");
  }

  /**
   * The checker: waits until every agent holds the last acknowledged configuration; returns what
   * is wrong where it never does (empty: nothing was lost).
   */
  async check(when: string): Promise<string[]> {
    const t = this.t;
    let problems: string[] = [];
    const deadline = nowMs() + CONFIG_CONVERGE_MS;
    for (;;) {
      problems = [];
      const expected = this.ledger.last();
      for (const host of t.hosts) {
        if (t.cluster.agent(host) === undefined) continue;
        let shown: ConfigReply;
        try {
          shown = await this.readConfig(host);
        } catch (error) {
          problems.push(`${t.name(host)}: /v1/config failed: ${(error as Error).message}`);
          continue;
        }
        if (shown.text === expected.text && shown.version === expected.version) continue;
        const promoted = this.ledger.promote(shown.text, shown.version);
        if (promoted !== undefined) {
          this.log(
            `chaos: configuration change #${promoted.serial} (uncertain) did commit, version ${promoted.version}`,
          );
          problems.push("retry");
          break;
        }
        const known = this.ledger.acknowledged.find((e) => e.text === shown.text);
        problems.push(
          `${t.name(host)} holds configuration version ${shown.version} (configurationVersion ${shown.configurationVersion}, ` +
            `${known === undefined ? "a text no change of this run wrote" : `change #${known.serial} of step ${known.step}`}) ${when}, ` +
            `but change #${expected.serial} (${expected.description}, step ${expected.step}) was acknowledged at version ${expected.version}`,
        );
      }
      if (problems.length === 0) return [];
      if (nowMs() > deadline) return problems.filter((p) => p !== "retry");
      await sleep(200);
    }
  }
}
