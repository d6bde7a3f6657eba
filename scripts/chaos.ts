/**
 * npm run chaos -- [--minutes N] [--steps K] [--seed S] [--without-long-pauses]
 *                  [--fencing | --two-node] [--bound-ms MS] [--evidence-dir DIR] [--sources]
 *
 * Random faults against real agents on test hosts (network namespaces; needs root, iproute2,
 * nftables, socat): power-off and restart, leader kills, link cuts (both directions, one
 * direction), random loss, agent pauses and SIGKILLs of the agent alone. Checks that the VIP and the echo service never ran on
 * two hosts at once, that the service answers within the bound after every heal, and that no
 * acknowledged configuration change was lost (test/chaos/run.ts). Prints the steps, the faults
 * by kind and the checkers; exits 1 when any checker failed, with the seed and the command that
 * replays the same steps. Default: 5 minutes, a seed from the clock, the compiled agent (npm run
 * chaos builds first; --sources runs src/ under tsx instead). Every mode runs the node guard
 * (as by default) with a lab-safe self-fence action (test/chaos/lab-self-fence), and draws agent
 * pauses of 2–4 s (past the follower lease); --without-long-pauses leaves those out. --fencing
 * gives the cluster a fence device (test/fixtures/fence/fence_lab) that powers a lost test host
 * off for real before its resources move; the run powers fenced hosts back on and reports every
 * fence (node, step, time from the fault), and fails a step whose lost node was not fenced in
 * time or that fenced a host its fault did not touch. --two-node runs two hosts and no witness in
 * two-node mode with that fence device and a fence delay for h1 (test/chaos/fencing.ts): a lost
 * peer is fenced whether or not it held anything, and after a partition h2 must be the one fenced.
 */
import { parseArgs } from "node:util";
import { pausePolicy, printReport, replayCommand, verdict } from "../test/chaos/report.js";
import { DEFAULT_BOUND_MS, runChaos } from "../test/chaos/run.js";
import { labAvailable } from "../test/lab/index.js";

function usage(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    minutes: { type: "string" },
    steps: { type: "string" },
    seed: { type: "string" },
    "without-long-pauses": { type: "boolean", default: false },
    fencing: { type: "boolean", default: false },
    "two-node": { type: "boolean", default: false },
    "bound-ms": { type: "string" },
    "evidence-dir": { type: "string", default: "/tmp" },
    sources: { type: "boolean", default: false },
  },
});

function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    usage(`${flag} takes a positive number, got "${text}"`);
  return value;
}

const minutes = positive("--minutes", values.minutes);
const steps = positive("--steps", values.steps);
if (steps !== undefined && !Number.isInteger(steps)) usage("--steps takes a whole number");
const boundMs = positive("--bound-ms", values["bound-ms"]) ?? DEFAULT_BOUND_MS;
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0)
  usage(`--seed takes a non-negative integer, got "${values.seed}"`);
const longPauses = values["without-long-pauses"] !== true;

const available = await labAvailable(["socat", "ss"]);
if (!available.ok) usage(`the lab cannot run here: ${available.reason}`);

const budgetMs =
  minutes === undefined && steps === undefined ? 5 * 60_000 : minutes && minutes * 60_000;
process.stdout.write(
  `chaos: seed ${seed}, ${steps === undefined ? "" : `${steps} steps`}${steps !== undefined && budgetMs !== undefined ? " or " : ""}${budgetMs === undefined ? "" : `${budgetMs / 60_000} min of faults`}, bound ${boundMs} ms\n${pausePolicy(longPauses, values.fencing || values["two-node"])}\n\n`,
);
const started = Date.now();
const report = await runChaos({
  seed,
  ...(steps === undefined ? {} : { maxSteps: steps }),
  ...(budgetMs === undefined ? {} : { budgetMs }),
  longPauses,
  fencing: values.fencing,
  twoNode: values["two-node"],
  boundMs,
  built: !values.sources,
  evidenceDir: values["evidence-dir"],
  log: (line) => {
    const at = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${at}s] ${line}\n`);
  },
});
printReport(report);
const result = verdict(report);
if (!result.ok) {
  process.stderr.write(
    `\nchaos FAILED (seed ${report.seed}): replay with ${replayCommand(report)}\n`,
  );
  process.exit(1);
}
