/**
 * The built-in `director` agent: a virtual service (`virtual_services` of the document) as
 * Heartbeat's ldirectord and keepalived run LVS. start programs the service's forwarding with
 * the real servers healthy now; every change of a real server's check verdict reprograms it at
 * once; stop removes exactly what start added (the service's own nft table, or its own IPVS
 * service); monitor finds it in place (and reprograms what a failed change left behind).
 *
 * Backends: nftables (DNAT, nft-script.ts), or IPVS through ipvsadm (ipvs-commands.ts) where the
 * kernel has it (/proc/net/ip_vs) and `backend` allows. Everything the agent needs is in its
 * parameters (virtual-service.ts), so the node guard's stop of a dead agent's service is this
 * same stop. Applies of one service are serialised: a reprogramming from a check's verdict never
 * overlaps an operation's, and one queued before a stop runs before it.
 */
import { existsSync, readFileSync } from "node:fs";
import type { AgentRef } from "../../../resource-model/types.js";
import {
  DirectorParamError,
  readVirtualServiceParams,
  type VirtualService,
} from "../../../resource-model/virtual-service.js";
import type { ProcessOutcome, ProcessRunner } from "../../executor/process-runner.js";
import type { ActionOutcome, AgentContext, MonitorOutcome, ResourceAgent } from "../agent.js";
import { AgentFailure, answering, BUILT_IN_ACTIONS } from "../built-in.js";
import type { AgentMetadata } from "../metadata.js";
import {
  OCF_ERR_CONFIGURED,
  OCF_ERR_GENERIC,
  OCF_ERR_INSTALLED,
  OCF_SUCCESS,
} from "../ocf-codes.js";
import { exitReason } from "../script-outcome.js";
import type { RealServerVerdict } from "./check-verdicts.js";
import { type DirectorRules, directorRules, isHealthy } from "./director-rules.js";
import { type IpvsService, ipvsCommands, ipvsDeleteCommand, ipvsService } from "./ipvs-commands.js";
import { directorTableName, nftApplyScript, nftFamily, nftRemoveScript } from "./nft-script.js";

/** A reprogramming for a verdict runs outside any operation: its own bound. */
const REPROGRAM_TIMEOUT_MS = 10_000;

export const DIRECTOR_METADATA: AgentMetadata = {
  name: "director",
  version: "1.0",
  shortDescription: "Load-balancing director (LVS) of a virtual service: nftables DNAT or IPVS",
  parameters: [
    { name: "address", required: true, unique: false, type: "string" },
    { name: "port", required: true, unique: false, type: "integer" },
    { name: "protocol", required: true, unique: false, type: "string" },
    { name: "scheduler", required: true, unique: false, type: "string" },
    { name: "real_servers", required: true, unique: false, type: "string" },
    { name: "sorry_server", required: false, unique: false, type: "string" },
    { name: "masquerade", required: true, unique: false, type: "boolean" },
    { name: "backend", required: true, unique: false, type: "string" },
  ],
  actions: BUILT_IN_ACTIONS,
  describesParameters: true,
};

export interface DirectorAgentOptions {
  /** The real servers' check verdicts on this node; none: every real server is healthy. */
  verdicts?: {
    verdictOf(check: string): RealServerVerdict;
    onChange(listener: () => void): unknown;
  };
  /** Whether the kernel has IPVS. */
  ipvsPresent?: () => boolean;
  /** Whether this node forwards packets of the family (the director's DNAT needs it). */
  forwarding?: (family: 4 | 6) => boolean;
}

type Backend = "nftables" | "ipvs";
type Run = (command: {
  file: string;
  args: readonly string[];
  stdin?: string;
}) => Promise<ProcessOutcome>;

/** A service this agent programmed and keeps current. */
interface Programmed {
  service: VirtualService;
  backend: Backend;
  table: string;
  runner: ProcessRunner;
  /** The rules in force (JSON), null until applied or after a failed apply. */
  applied: string | null;
  /** IPVS: what the kernel holds as far as this agent knows (null: nothing of ours, or unknown). */
  ipvs: IpvsService | null;
}

export class DirectorAgent implements ResourceAgent {
  readonly ref: AgentRef = { kind: "director", name: "director" };
  private readonly programmed = new Map<string, Programmed>();
  private readonly lanes = new Map<string, Promise<unknown>>();
  private readonly ipvsPresent: () => boolean;
  private readonly forwarding: (family: 4 | 6) => boolean;

  constructor(private readonly options: DirectorAgentOptions = {}) {
    this.ipvsPresent = options.ipvsPresent ?? (() => existsSync("/proc/net/ip_vs"));
    this.forwarding = options.forwarding ?? systemForwarding;
    options.verdicts?.onChange(() => this.verdictsChanged());
  }

  async metaData(): Promise<AgentMetadata> {
    return DIRECTOR_METADATA;
  }

  async start(ctx: AgentContext): Promise<ActionOutcome> {
    return answering(async () => {
      const service = readService(ctx);
      const backend = this.backendOf(service);
      if (!this.forwarding(service.family)) {
        const key = service.family === 4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding";
        throw new AgentFailure(
          OCF_ERR_INSTALLED,
          `${key} is 0 on this node: the director forwards to the real servers; set it to 1 (sysctl -w ${key}=1, and in /etc/sysctl.d to keep it)`,
        );
      }
      const entry: Programmed = {
        service,
        backend,
        table: directorTableName(ctx.resourceId),
        runner: ctx.runner,
        applied: null,
        ipvs: null,
      };
      this.programmed.set(ctx.resourceId, entry);
      await this.serially(ctx.resourceId, () => this.apply(entry, ctx.run));
      return { code: OCF_SUCCESS };
    });
  }

  async stop(ctx: AgentContext): Promise<ActionOutcome> {
    return answering(async () => {
      this.programmed.delete(ctx.resourceId);
      const table = directorTableName(ctx.resourceId);
      let service: VirtualService;
      try {
        service = readService(ctx);
      } catch {
        // Parameters no version wrote: what start could have added is still the table of
        // this resource's name, in either family; a stop that fails would fence the node.
        await this.serially(ctx.resourceId, async () => {
          for (const family of [4, 6] as const) await nftRemove(ctx.run, table, family);
        });
        return { code: OCF_SUCCESS };
      }
      await this.serially(ctx.resourceId, async () => {
        // auto may have chosen either: remove both, each only if it is ours and there.
        if (service.backend !== "ipvs") await nftRemove(ctx.run, table, service.family);
        if (service.backend !== "nftables" && this.ipvsPresent()) {
          const deleted = await ctx.run({
            file: "ipvsadm",
            args: ipvsDeleteCommand(ipvsOf(service)),
          });
          const gone =
            /no such service/i.test(deleted.stderrTail) || deleted.spawnError?.code === "ENOENT";
          if (deleted.exitCode !== 0 && !gone) throw commandError(deleted, "ipvsadm -D");
        }
      });
      return { code: OCF_SUCCESS };
    });
  }

  async monitor(ctx: AgentContext): Promise<MonitorOutcome> {
    const outcome = await answering(async () => {
      const service = readService(ctx);
      const backend = this.backendOf(service);
      const table = directorTableName(ctx.resourceId);
      if (!(await inPlace(ctx.run, backend, service, table)))
        return { state: "not_running" } as const;
      let entry = this.programmed.get(ctx.resourceId);
      if (entry === undefined) {
        // In place from this node's earlier agent: taken up, and made current.
        entry = { service, backend, table, runner: ctx.runner, applied: null, ipvs: null };
        this.programmed.set(ctx.resourceId, entry);
      }
      const current = entry;
      await this.serially(ctx.resourceId, () => this.apply(current, ctx.run));
      return { state: "running" } as const;
    });
    if ("state" in outcome) return outcome;
    return { state: "failed", code: outcome.code, reason: outcome.reason ?? "monitor failed" };
  }

  /** Reprograms each service whose rules the new verdicts change. */
  private verdictsChanged(): void {
    for (const [resourceId, entry] of this.programmed) {
      const run: Run = (command) =>
        entry.runner.run({ ...command, timeoutMs: REPROGRAM_TIMEOUT_MS });
      // A failure leaves `applied` null: the next monitor applies again, or fails the service.
      void this.serially(resourceId, async () => {
        if (this.programmed.get(resourceId) === entry) await this.apply(entry, run);
      }).catch(() => undefined);
    }
  }

  /** Brings the kernel to the rules of the verdicts now; nothing when it is there already. */
  private async apply(entry: Programmed, run: Run): Promise<void> {
    const rules = this.rulesOf(entry.service);
    const signature = JSON.stringify(rules);
    if (entry.applied === signature) return;
    entry.applied = null;
    if (entry.backend === "nftables") {
      await nft(run, nftApplyScript(entry.table, rules), `program table ${entry.table}`);
    } else {
      const next = ipvsService(rules);
      if (entry.ipvs === null) {
        // Whatever an earlier run left of this service is replaced, not merged into.
        await run({ file: "ipvsadm", args: ipvsDeleteCommand(next) });
      }
      const previous = entry.ipvs;
      entry.ipvs = null;
      for (const args of ipvsCommands(previous, next)) {
        const done = await run({ file: "ipvsadm", args });
        if (done.exitCode !== 0) throw commandError(done, `ipvsadm ${args.join(" ")}`);
      }
      entry.ipvs = next;
    }
    entry.applied = signature;
  }

  private rulesOf(service: VirtualService): DirectorRules {
    const verdicts = this.options.verdicts;
    return directorRules(service, (server) =>
      verdicts === undefined ? true : isHealthy(server, (check) => verdicts.verdictOf(check)),
    );
  }

  private backendOf(service: VirtualService): Backend {
    if (service.backend === "nftables") return "nftables";
    if (service.backend === "ipvs") {
      if (service.masquerade)
        throw new AgentFailure(
          OCF_ERR_CONFIGURED,
          "masquerade is done by the nftables backend: set backend: nftables (or auto)",
        );
      if (!this.ipvsPresent())
        throw new AgentFailure(
          OCF_ERR_INSTALLED,
          "this kernel has no IPVS (/proc/net/ip_vs is missing: modprobe ip_vs), and backend is ipvs",
        );
      return "ipvs";
    }
    return !service.masquerade && this.ipvsPresent() ? "ipvs" : "nftables";
  }

  private serially<T>(resourceId: string, body: () => Promise<T>): Promise<T> {
    const previous = this.lanes.get(resourceId) ?? Promise.resolve();
    const next = previous.then(body, body);
    const tail = next.catch(() => undefined);
    this.lanes.set(resourceId, tail);
    void tail.then(() => {
      if (this.lanes.get(resourceId) === tail) this.lanes.delete(resourceId);
    });
    return next;
  }
}

function readService(ctx: AgentContext): VirtualService {
  try {
    return readVirtualServiceParams(ctx.params);
  } catch (error) {
    const param = error instanceof DirectorParamError ? ` (${error.param})` : "";
    throw new AgentFailure(
      OCF_ERR_CONFIGURED,
      `resource ${ctx.resourceId} (director)${param}: ${(error as Error).message}`,
    );
  }
}

function ipvsOf(service: VirtualService): IpvsService {
  return ipvsService(directorRules(service, () => false));
}

async function inPlace(
  run: Run,
  backend: Backend,
  service: VirtualService,
  table: string,
): Promise<boolean> {
  const [file, args] =
    backend === "nftables"
      ? ["nft", ["list", "table", nftFamily(service.family), table]]
      : ["ipvsadm", ["-L", "-n", ...ipvsDeleteCommand(ipvsOf(service)).slice(1)]];
  const listed = await run({ file, args });
  // Without the tool nothing of it can be in place (a start would have failed for it).
  if (listed.spawnError?.code === "ENOENT") return false;
  if (listed.spawnError) throw commandError(listed, file);
  if (listed.exitCode === 0) return true;
  if (/no such file or directory|no such service/i.test(listed.stderrTail)) return false;
  throw commandError(listed, `${file} ${args.join(" ")}`);
}

async function nft(run: Run, script: string, what: string): Promise<void> {
  const done = await run({ file: "nft", args: ["-f", "-"], stdin: script });
  if (done.exitCode !== 0) throw commandError(done, `nft (${what})`);
}

/** A removal where nft is missing has nothing to remove: nothing could have been added. */
async function nftRemove(run: Run, table: string, family: 4 | 6): Promise<void> {
  const done = await run({ file: "nft", args: ["-f", "-"], stdin: nftRemoveScript(table, family) });
  if (done.exitCode !== 0 && done.spawnError?.code !== "ENOENT")
    throw commandError(done, `nft (remove table ${table})`);
}

function commandError(outcome: ProcessOutcome, what: string): AgentFailure {
  if (outcome.spawnError)
    return new AgentFailure(OCF_ERR_INSTALLED, `cannot run ${what}: ${outcome.spawnError.message}`);
  // nft writes its error first, then the offending line and carets under it.
  const detail =
    outcome.stderrTail
      .split("\n")
      .find((line) => line.includes("Error:"))
      ?.trim() ??
    exitReason(outcome.stderrTail) ??
    (outcome.timedOut ? "timed out" : `exit ${outcome.exitCode}`);
  return new AgentFailure(OCF_ERR_GENERIC, `${what} failed: ${detail}`);
}

function systemForwarding(family: 4 | 6): boolean {
  const path =
    family === 4 ? "/proc/sys/net/ipv4/ip_forward" : "/proc/sys/net/ipv6/conf/all/forwarding";
  try {
    return readFileSync(path, "utf8").trim() !== "0";
  } catch {
    return true; // no such file: not Linux's /proc; the forwarding shows itself or not
  }
}
