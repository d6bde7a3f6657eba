/**
 * The Vigil test lab: hosts as network namespaces, with real processes and real link faults.
 *
 * Topology
 * - Each lab has an id "vg" + 5 random hex chars; everything it creates is named "<id>-...":
 *   host namespaces "<id>-h<i>", client namespaces "<id>-c<j>", the switch namespace "<id>-sw",
 *   switch ports "<id>-h<i>l<L>" (at most 13 chars, under IFNAMSIZ). Parallel runs never collide.
 * - One bridge per link (br0, br1) inside the switch namespace; nothing is created in the root
 *   namespace. Host i has eth<L> with 198.18.<L>.<i+1>/24 on link L; clients (link 0 only) have
 *   198.18.0.<101+j>. Only 198.18.0.0/15 is used.
 * - MACs are fixed (02:00:c6:12:<L>:<last octet>) and every host has permanent neighbour entries
 *   for its peers, so ARP never crosses a cut and a one-way cut stays one-way.
 *
 * Use
 *   import { labTestOptions, withLab } from "../lab/index.js";
 *   describe("...", labTestOptions(["ping"]), () => {      // skips (with reason) unless root etc.
 *     test("...", () => withLab({ hosts: 3, links: 2 }, async (lab) => {
 *       const agent = lab.host(0).spawn("node", ["agent.js"], { env: { X: "1" } });
 *       await agent.waitForLine(/listening/, 10_000);
 *       await lab.cutLink(2, 0);                            // host 2, link 0, both directions
 *       const r = await lab.host(1).exec("ping", ["-c1", "-W1", lab.host(2).address(0)]);
 *     }));
 *   });
 *
 * API
 * - withLab<T>(options: CreateLabOptions, body: (lab: Lab) => Promise<T>): Promise<T>
 *     creates the lab, runs body, always tears down (kill tracked PIDs, delete namespaces, wait
 *     until the run's namespaces and links are gone). createLab(options) + lab.teardown() when a
 *     lab must outlive one function (before/after hooks).
 * - CreateLabOptions { hosts: 1..100; links?: 1|2 (default 1); clients?: 0..100;
 *     faultPlacement?: "host-egress" | "switch-ingress" (default: host-egress if supported) }
 * - Lab: id, dir (logs, temp files), linkCount, switchNs, hosts, clients, faultPlacement,
 *     host(i): LabHost, subnet(link), namespaces(), teardown()
 *   Faults (host is an index or a LabHost; each resolves when the kernel applies it):
 *     powerOff(host)   links down, then SIGKILL all its processes; resolves once they have exited
 *     powerOn(host)    links up again (cuts and losses stay); restart processes yourself
 *     powerCycle(host) powerOff + powerOn
 *     cutLink(host, link, direction: "both" | "in" | "out" = "both"), healLink(host, link)
 *     cutAll(host, direction = "both"), healAll(host)
 *     randomLoss(host, link, percent, direction = "both"), clearLoss(host, link)
 *     linkFaults(host, link): { cut, loss }
 *     pause(host) / resume(host)   SIGSTOP / SIGCONT every process in the host
 *   Cuts and loss are nft netdev tables (numgen random mod 10000 < percent*100 drop): "in" on
 *   the host's eth<L> ingress hook; "out" on its egress hook when the kernel has it (>= 5.16),
 *   else on the ingress hook of the host's switch port (lab.faultPlacement tells which).
 * - LabHost: index, kind ("node" | "client"), ns, links, address(link = 0), device(link = 0),
 *     spawn(cmd, args?, { env?, cwd? }): LabProcess, exec(cmd, args?, { env?, input?, timeoutMs? })
 * - LabProcess: pid, host, command, stdout, stderr (text so far), stdoutPath, stderrPath,
 *     running, exited: Promise<{ code, signal }>, kill(signal = "SIGTERM") (whole process group),
 *     waitForLine(pattern, timeoutMs, stream: "stdout" | "stderr" | "both" = "both"): Promise<line>
 * - ExecResult: { stdout, stderr, code, signal }; a non-zero exit is a result, not an error.
 * - labAvailable(extraTools?): { ok: true } | { ok: false, reason }
 *   labTestOptions(extraTools?): {} | { skip: reason }   (never skips when env CI is set)
 * - sweepLeftovers(labId), labObjects(labId): remove / list what exists named for that run.
 *
 * Processes run as `ip netns exec <ns> cmd` (the PID is the command's own) in their own process
 * group. Teardown, powerOff and pause signal the tracked groups and whatever else runs in the
 * lab's own namespaces (only the lab's processes can be there); nothing is found by name.
 * Set VIGIL_LAB_KEEP=1 to keep the lab dir (process logs) after teardown, and
 * VIGIL_LAB_LOG_LEVEL=debug for agents that log each operation and forwarded proposal
 * (test/support/lab-cluster.ts).
 */
export { labObjects, sweepLeftovers } from "./cleanup.js";
export { CommandError } from "./command.js";
export type { Direction, FaultPlacement, LinkFaultState } from "./faults.js";
export { type CreateLabOptions, createLab, type HostRef, Lab, LabHost, withLab } from "./lab.js";
export type { LabOptions } from "./names.js";
export type {
  ExecOptions,
  ExecResult,
  ExitStatus,
  LabProcess,
  OutputStream,
  SpawnOptions,
} from "./processes.js";
export { egressHookSupported, type LabSupport, labAvailable, labTestOptions } from "./support.js";
