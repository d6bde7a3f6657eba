import { type ChildProcess, spawn } from "node:child_process";
import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { agentArguments, type LocalCluster } from "../../../src/demo/local-cluster.js";
import { waitFor } from "../../support/wait.js";

/** How many of the log's last lines a waitForLog timeout quotes. */
const LOG_LINES_QUOTED = 30;

/**
 * Real `vigil agent` processes of a LocalCluster, each with a configuration of its own (the
 * cluster's file plus a `watchdog` section: a device path differs per node here, where on real
 * machines it is the same /dev/watchdog) and an environment of its own (systemd's variables).
 */
export class WatchdogAgent {
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly logPath: string,
  ) {
    this.exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
  }

  static async start(
    cluster: LocalCluster,
    dir: string,
    name: string,
    options: { watchdog?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {},
  ): Promise<WatchdogAgent> {
    const config = parse(await readFile(cluster.configPath, "utf8")) as Record<string, unknown>;
    if (options.watchdog !== undefined) config.watchdog = options.watchdog;
    const configPath = join(dir, `vigil-${name}.yaml`);
    await writeFile(configPath, stringify(config), { mode: 0o600 });
    const log = await open(cluster.logPath(name), "a");
    const child = spawn(
      process.execPath,
      agentArguments({
        configPath,
        node: name,
        socketPath: cluster.socketPath(name),
        stateDir: join(dir, "state", name),
      }),
      { stdio: ["ignore", log.fd, log.fd], env: options.env ?? process.env },
    );
    await log.close();
    return new WatchdogAgent(name, child, cluster.logPath(name));
  }

  get pid(): number {
    return this.child.pid!;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The agent's log and its guard's, as JSON objects (other lines are skipped). */
  async logLines(): Promise<Record<string, unknown>[]> {
    const text = await readFile(this.logPath, "utf8").catch(() => "");
    return text.split("\n").flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Waits for a log line; on timeout the error quotes the log's last lines (CI keeps no file). */
  async waitForLog(what: string, match: (line: Record<string, unknown>) => boolean) {
    try {
      return await waitFor(`${this.name}: ${what}`, async () =>
        (await this.logLines()).find(match),
      );
    } catch (error) {
      const tail = (await this.logLines())
        .slice(-LOG_LINES_QUOTED)
        .map(
          (line) =>
            `  ${String(line.time)} ${String(line.msg)}${line.reason === undefined ? "" : ` (${String(line.reason)})`}`,
        );
      throw new Error(`${(error as Error).message}; the log ended with:\n${tail.join("\n")}`);
    }
  }

  /** The PID of the lease guard this agent started (from its log). */
  async guardPid(): Promise<number> {
    const line = await this.waitForLog(
      "the lease guard to start",
      (l) => l.msg === "node guard started",
    );
    return Number(line.pid);
  }

  /** A clean stop (SIGCONT first, in case it was stopped); SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    if (!this.running()) return;
    this.child.kill("SIGCONT");
    this.child.kill("SIGTERM");
    const timeout = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    await this.exit;
    clearTimeout(timeout);
  }
}

/**
 * Kills a lease guard that one of this test's agents started and that is still running (e.g.
 * holding its watchdog device after a fence, which it does until the machine resets). Its PID
 * is checked against /proc first: a guard that exited long ago may have left its PID to
 * something else.
 */
export async function killLeftoverGuard(guardPid: number, agentPid: number): Promise<void> {
  const cmdline = await readFile(`/proc/${guardPid}/cmdline`, "utf8").catch(() => "");
  const argv = cmdline.split("\0");
  const index = argv.indexOf("--agent-pid");
  // `vigil guard`, or its entry point run directly (src/cli/guard-main.ts, compiled or not).
  const isGuard = argv.includes("guard") || argv.some((arg) => /guard-main\.[jt]s$/.test(arg));
  if (!isGuard || index < 0 || argv[index + 1] !== String(agentPid)) return;
  try {
    process.kill(guardPid, "SIGKILL");
  } catch {}
}
