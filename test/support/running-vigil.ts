import { type ChildProcess, spawn } from "node:child_process";
import { cliEntry } from "../../src/demo/local-cluster.js";

/** A `vigil` command that runs until stopped, its output gathered as it comes. */
export class RunningVigil {
  stdout = "";
  stderr = "";
  /** Its exit code once it has exited (null: ended by a signal). */
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(...args: string[]) {
    const { entry, execArgv } = cliEntry();
    this.child = spawn(process.execPath, [...execArgv, entry, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString("utf8");
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString("utf8");
    });
  }

  /** Still running: a refresh or follow loop ends only when it is stopped. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGINT");
    await this.exited;
  }
}
