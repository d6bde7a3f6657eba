import { type ChildProcess, spawn } from "node:child_process";

/** A process a test started: its exit, and whether it still runs. */
export interface Tracked {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
}

/**
 * The processes one test file starts, so that each test kills exactly its own, by PID, however
 * it ended.
 */
export class TrackedProcesses {
  private readonly started: Tracked[] = [];

  track(child: ChildProcess): Tracked {
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("exit", (code, signal) => resolve({ code, signal }));
    });
    const tracked = {
      child,
      exit,
      running: () => child.exitCode === null && child.signalCode === null,
    };
    this.started.push(tracked);
    return tracked;
  }

  /** A dummy agent: a process group of its own that does nothing for a minute. */
  dummyAgent(): Tracked {
    return this.track(spawn("sleep", ["60"], { detached: true, stdio: "ignore" }));
  }

  /** SIGKILLs every tracked process still running, and forgets them all. */
  killAll(): void {
    for (const { child, running } of this.started.splice(0)) {
      child.stdin?.destroy();
      if (running() && child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }
}
