/**
 * Runs a chaos schedule (scenario.ts) against real agents on test hosts: a lab of 3 hosts (2 in
 * two-node mode) and 1 client on 2 links, the default timing profile, the service group [VIP, echo service] of
 * test/support/takeover-lab.ts, a client asking the VIP who serves it every 5 ms, and a VIP
 * watcher (`ip monitor address`) on every host. The public entry point (scripts/chaos.ts and
 * test/integration/chaos.test.ts); the work is split by concern:
 *
 *   driver.ts          the set-up order, the step loop, the report
 *   cluster.ts         the cluster under test and when it counts as settled
 *   faults.ts          carrying out a step's fault and healing it
 *   hosts.ts           power-offs, power-ons, agents that ended (expected, fenced, or a failure)
 *   config-changes.ts  the configuration workload and the "nothing committed is lost" checker
 *   checkers.ts        double-active (VIP, service) and back-within-the-bound checkers, evidence
 *   modes.ts           quorum, node guard (lease-guard.ts), fencing (fencing.ts)
 *   types.ts           options, step results, the report
 *
 * Modes: quorum (no_quorum_policy stop, no fence device), the lab's default; in every mode each
 * agent runs its node guard, whose self-fence action is test/chaos/lab-self-fence; with `fencing`, a fence device (test/fixtures/fence/fence_lab) powers a lost node off before
 * its resources move, and the run powers fenced hosts back on; with `twoNode`, the lab has 2
 * hosts (no witness) and that fence device, h1 with a fence delay, in two-node mode.
 *
 * Checkers (never relaxed by a mode or an option):
 * - the VIP is never on two hosts at once (the watchers' kernel notifications);
 * - the echo service is never active on two hosts at once (its events.log, written outside the
 *   namespaces, with power-offs and fences closing a copy);
 * - the service answers the client within `boundMs` of every heal (from the node it settled on);
 * - no acknowledged configuration change is lost (every agent's /v1/config, after every step and
 *   at the end; each apply is based on the previous acknowledged version);
 * - the cluster settles after every step, and no agent exits unless the step killed it, its node
 *   guard did (noted with what the guard did), or, in fencing mode, the cluster fenced its host;
 * - fencing mode: no host is fenced that the step's fault did not touch, and a host lost long
 *   enough while it held resources is fenced within fencing.ts's bound;
 * - two-node mode: only the host the fault makes its peer lose may be fenced (after a partition,
 *   h2: h1's fence delay lets h1 shoot first), and it must be, held or not, within the bound
 *   plus its fence delay.
 *
 * Clocks: every namespace shares the machine's clock, so the prober's, the watchers', the echo
 * service's, fence_lab's and the agents' timestamps compare directly (nowMs()).
 */
import { withLab } from "../lab/index.js";
import { ChaosDriver } from "./driver.js";
import type { ChaosOptions, ChaosReport } from "./types.js";

export { MARKER_AGENT } from "./config-changes.js";
export { LAB_SELF_FENCE } from "./lease-guard.js";
export {
  type ChaosOptions,
  type ChaosReport,
  DEFAULT_BOUND_MS,
  type DoubleActive,
  type FenceExpectation,
  type FenceRecord,
  type StepResult,
} from "./types.js";

/** Runs the schedule of `options.seed` on a fresh lab; resolves with the report (never throws for a checker). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const hosts = options.twoNode === true ? 2 : 3;
  return withLab({ hosts, links: 2, clients: 1 }, async (lab) => {
    const driver = new ChaosDriver(lab, options);
    try {
      return await driver.run();
    } finally {
      await driver.close();
    }
  });
}
