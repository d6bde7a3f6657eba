/** The chaos run's summary: tables on stdout (bench/table.ts), and the checkers' verdicts. */
import { printTable } from "../../bench/table.js";
import { FENCE_EXPECTED_WITHIN_MS, fenceInTime } from "./fencing.js";
import type { ChaosReport } from "./run.js";
import { LONG_PAUSE_MS, SHORT_PAUSE_MAX_MS } from "./scenario.js";

/** What agent pauses and kills test, printed at the top of every run. */
export function pausePolicy(longPauses: boolean, fencing = false): string {
  return [
    `Agent faults (the agent's process group alone; its host, links, guard and resources stay): short pauses (100–${SHORT_PAUSE_MAX_MS} ms,`,
    "under the 900 ms follower lease) must lose nobody. SIGKILLs of the agent, and long pauses",
    `(${LONG_PAUSE_MS.min / 1000}–${LONG_PAUSE_MS.max / 1000} s, SIGSTOP past the deadtime) ${longPauses ? "are ON" : "are OFF (--without-long-pauses)"}: the node guard kills the dead or hung`,
    "agent and stops what it held before its lease ends (or fences its host with the lab's",
    "self-fence, counted as the end of its copies then), so the leader may start them elsewhere.",
    `Fencing (--fencing, --two-node) also powers the lost host off before its resources move; this run has it ${fencing ? "ON" : "OFF"}.`,
    "The checkers are the same either way.",
  ].join("\n");
}

export interface Verdict {
  ok: boolean;
  /** One line per failed checker. */
  failed: string[];
}

export function verdict(report: ChaosReport): Verdict {
  const failed: string[] = [];
  if (report.vipDoubleActiveMs > 0)
    failed.push(`VIP on two hosts for ${report.vipDoubleActiveMs.toFixed(1)} ms`);
  if (report.serviceDoubleActiveMs > 0)
    failed.push(`service on two hosts for ${report.serviceDoubleActiveMs.toFixed(1)} ms`);
  const late = report.steps.filter(
    (s) => s.backAfterHealMs === null || s.backAfterHealMs > report.boundMs,
  );
  if (late.length > 0)
    failed.push(
      `service not back within ${report.boundMs} ms of the heal: step ${late.map((s) => s.step.index).join(", ")}`,
    );
  if (report.configLost.length > 0)
    failed.push(`committed configuration lost: ${report.configLost.length} finding(s)`);
  const fencing = report.failures.filter(isFencingFailure);
  if (fencing.length > 0) failed.push(`fencing: ${fencing.length} finding(s)`);
  if (report.aborted !== null) failed.push(`run aborted: ${report.aborted}`);
  const other = report.failures.length;
  if (other > 0 && failed.length === 0) failed.push(`${other} other failure(s)`);
  return { ok: failed.length === 0 && other === 0, failed };
}

/** A fencing-mode finding: a host fenced that no fault touched, or a lost one not fenced in time. */
function isFencingFailure(failure: string): boolean {
  return /the cluster fenced|fencing expected/.test(failure);
}

const ms = (value: number | null | undefined): string =>
  value === null || value === undefined ? "—" : value.toFixed(0);

/** How to run exactly these steps again. */
export function replayCommand(report: ChaosReport): string {
  return `npm run chaos -- --seed ${report.seed} --steps ${report.steps.length}${report.longPauses ? "" : " --without-long-pauses"}${report.twoNode ? " --two-node" : report.fencing ? " --fencing" : ""}`;
}

export function printReport(report: ChaosReport): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const seconds = ((report.endedAtMs - report.startedAtMs) / 1000).toFixed(0);
  out("");
  out(`Chaos run: seed ${report.seed}, lab ${report.labId}, ${seconds} s`);
  out(`Mode: ${report.mode}`);
  out(`Bound: the service answers the client within ${report.boundMs} ms of every heal.`);
  out(pausePolicy(report.longPauses, report.fencing));
  if (report.guardFences.length > 0) out(`Node guard fences: ${report.guardFences.join(", ")}`);

  printTable(
    "Steps",
    [
      "#",
      "fault",
      "host",
      "group before → after",
      "hold ms",
      "unavailable ms",
      "back after heal ms",
      "config",
      "result",
    ],
    report.steps.map((s) => [
      String(s.step.index),
      s.description.replace(/^step \d+: /, "").replace(/ for \d+ ms.*$/, "") +
        (s.notes.some((n) => n.startsWith("the client's link")) ? " (client link)" : ""),
      s.target ?? "—",
      `${s.groupBefore ?? "?"} → ${s.groupAfter ?? "?"}`,
      String(s.step.holdMs),
      ms(s.unavailabilityMs),
      ms(s.backAfterHealMs),
      s.configChanges.join(", ") || "—",
      (s.failures.length > 0 ? "FAILED" : "ok") +
        s.notes
          .filter((n) => n.startsWith("the node guard "))
          .map((n) => ` (guard ${n.split(" ")[3]} ${n.split(" ")[4]})`)
          .join("") +
        s.fences.map((f) => ` (fenced ${f.node})`).join(""),
    ]),
  );

  const noted = report.steps.filter((s) => s.notes.length > 0);
  if (noted.length > 0) {
    out("");
    out("Notes");
    for (const s of noted) for (const note of s.notes) out(`  step ${s.step.index}: ${note}`);
  }
  if (report.fencing) printFences(report);

  const kinds = Object.keys(report.faultsByKind).sort();
  printTable(
    "Faults injected",
    ["kind", "count", "longest unavailability ms", "slowest back after heal ms"],
    [
      ...kinds.map((kind) => {
        const steps = report.steps.filter((s) => s.kind === kind);
        const max = (values: Array<number | null>) => {
          const present = values.filter((v): v is number => v !== null);
          return present.length === 0 ? null : Math.max(...present);
        };
        return [
          kind,
          String(report.faultsByKind[kind]),
          steps.length === 0 ? "—" : ms(max(steps.map((s) => s.unavailabilityMs))),
          steps.length === 0 ? "—" : ms(max(steps.map((s) => s.backAfterHealMs))),
        ];
      }),
      ["total", String(Object.values(report.faultsByKind).reduce((a, b) => a + b, 0)), "", ""],
    ],
  );

  const late = report.steps.filter(
    (s) => s.backAfterHealMs === null || s.backAfterHealMs > report.boundMs,
  );
  const settled = report.steps.filter((s) =>
    s.failures.some((f) => /did not settle|exited/.test(f)),
  );
  printTable(
    "Checkers",
    ["checker", "measured", "verdict"],
    [
      [
        "VIP on two hosts (ip monitor address on every host)",
        `${report.vipDoubleActiveMs.toFixed(1)} ms`,
        report.vipDoubleActiveMs === 0 ? "ok" : "FAILED",
      ],
      [
        "service on two hosts (events.log)",
        `${report.serviceDoubleActiveMs.toFixed(1)} ms`,
        report.serviceDoubleActiveMs === 0 ? "ok" : "FAILED",
      ],
      [
        `back within ${report.boundMs} ms of every heal`,
        `${report.steps.length - late.length}/${report.steps.length}, slowest ${ms(report.slowestBack?.ms)} ms`,
        late.length === 0 ? "ok" : "FAILED",
      ],
      [
        "no committed configuration lost",
        `${report.configChanges} acknowledged, ${report.configLost.length} lost`,
        report.configLost.length === 0 &&
        !report.failures.some((f) => /holds configuration|refused/.test(f))
          ? "ok"
          : "FAILED",
      ],
      ...(report.fencing ? [fencingChecker(report)] : []),
      [
        "cluster settles, agents stay up",
        `${report.steps.length - settled.length}/${report.steps.length}`,
        settled.length === 0 && report.aborted === null ? "ok" : "FAILED",
      ],
    ],
  );

  const result = verdict(report);
  out("");
  out(`scenarios: ${report.steps.length}`);
  out(
    `faults injected: ${Object.values(report.faultsByKind).reduce((a, b) => a + b, 0)} (${kinds.map((k) => `${k} ${report.faultsByKind[k]}`).join(", ")})`,
  );
  out(
    `double-active ms: ${(report.vipDoubleActiveMs + report.serviceDoubleActiveMs).toFixed(1)} (VIP ${report.vipDoubleActiveMs.toFixed(1)}, service ${report.serviceDoubleActiveMs.toFixed(1)}; must be 0)`,
  );
  out(
    `longest unavailability: ${ms(report.longestUnavailability?.ms)} ms${report.longestUnavailability === null ? "" : ` (step ${report.longestUnavailability.step}, ${report.longestUnavailability.kind})`}`,
  );
  out(`seed: ${report.seed}`);
  if (report.fencing) {
    out(`fences: ${fenceSummary(report)}`);
    if (report.failedFenceCalls.length > 0)
      out(`failed fence_lab calls (retried by the cluster): ${report.failedFenceCalls.join("; ")}`);
  }
  for (const [what, list] of [
    ["fences", report.guardFences],
    ["releases", report.guardReleases],
  ] as const) {
    if (list.length === 0) continue;
    out(`node guard ${what}: ${list.length}`);
    for (const line of list) out(`  - ${line}`);
  }
  if (!result.ok) {
    out("");
    out(`FAILED: ${result.failed.join("; ")}`);
    for (const failure of report.failures) out(`  - ${failure}`);
    for (const d of report.doubleActive) {
      out(`  evidence, ${d.what} on ${d.nodes.join(" and ")} (step ${d.step ?? "—"}):`);
      for (const line of d.evidence) out(`    ${line}`);
    }
    if (report.evidenceDir !== null) out(`  lab directory kept in ${report.evidenceDir}`);
    out(`replay: ${replayCommand(report)}`);
  }
}

/** Steps whose fault should have got a host fenced, and those where it was, in time. */
function fenceExpectations(report: ChaosReport): { expected: number; inTime: number } {
  const expected = report.steps.filter((s) => s.fenceExpectation?.expected === true);
  const inTime = expected.filter((s) => fenceInTime(s) !== undefined);
  return { expected: expected.length, inTime: inTime.length };
}

function fencingChecker(report: ChaosReport): string[] {
  const { expected, inTime } = fenceExpectations(report);
  const findings = report.failures.filter(isFencingFailure).length;
  return [
    `lost nodes fenced within ${FENCE_EXPECTED_WITHIN_MS} ms${report.twoNode ? " (+ a node's fence delay)" : ""}, no other node fenced`,
    `${inTime}/${expected} expected fences in time, ${report.fences.length} fence(s) in all, ${findings} finding(s)`,
    findings === 0 ? "ok" : "FAILED",
  ];
}

/** "3 (h1 2, h2 1); fault → fence 1012–1410 ms, median 1203 ms; expected 2, in time 2". */
export function fenceSummary(report: ChaosReport): string {
  const byNode = new Map<string, number>();
  for (const f of report.fences) byNode.set(f.node, (byNode.get(f.node) ?? 0) + 1);
  const nodes = [...byNode]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([node, count]) => `${node} ${count}`)
    .join(", ");
  const delays = report.fences
    .map((f) => f.afterFaultMs)
    .filter((d): d is number => d !== null && d >= 0)
    .sort((a, b) => a - b);
  const spread =
    delays.length === 0
      ? ""
      : `; fault → fence ${ms(delays[0])}–${ms(delays.at(-1))} ms, median ${ms(delays[Math.floor((delays.length - 1) / 2)])} ms`;
  const { expected, inTime } = fenceExpectations(report);
  return `${report.fences.length}${nodes === "" ? "" : ` (${nodes})`}${spread}; expected ${expected}, in time ${inTime}`;
}

function printFences(report: ChaosReport): void {
  printTable(
    "Fences (fence_lab: links down, every process killed; the run powers the host on again)",
    ["step", "fault", "target", "fenced", "fault → fence ms", "call → done ms", "phase", "by"],
    report.fences.map((f) => [
      f.step === null ? "—" : String(f.step),
      f.fault ?? "—",
      f.target ?? "—",
      f.node,
      ms(f.afterFaultMs),
      f.calledAtMs === null ? "—" : ms(f.atMs - f.calledAtMs),
      f.phase,
      f.by ?? "not recorded",
    ]),
  );
  const missed = report.steps.filter(
    (s) => s.fenceExpectation?.expected === false && s.fences.length === 0,
  );
  if (missed.length > 0) {
    printTable(
      "Faults not expected to fence (and not fenced)",
      ["step", "fault", "target", "why"],
      missed.map((s) => [
        String(s.step.index),
        s.kind,
        s.target ?? "—",
        s.fenceExpectation!.reason,
      ]),
    );
  }
}
