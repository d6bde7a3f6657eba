/**
 * A ProcessRunner whose children are started by a worker thread, so that starting them never
 * stops the agent's own thread. spawn() returns only once the child has exec'd: fork copies the
 * agent's page tables and the child must be given a CPU first. Measured on this project's
 * two-core machines: 8 ms per spawn with nothing else running, up to 35 ms beside two busy
 * loops, and 130 ms of the last second of an agent handing its resources over (its monitors and
 * stops, bench:failover graceful) — time taken from its heartbeats and its node guard's feed,
 * which must never wait. Pacemaker runs its agents from a separate daemon (execd) for the same
 * reason. Outcomes are ChildProcessRunner's own: the worker runs it (spawn-thread.ts).
 */
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { SHARE_ENV, Worker } from "node:worker_threads";
import { childNiceness } from "../../scheduling/child-priority.js";
import type {
  ChildProcessRunnerOptions,
  CommandSpec,
  ProcessOutcome,
  ProcessRunner,
} from "./process-runner.js";
import type { SpawnReply, SpawnRequest } from "./spawn-protocol.js";

export class OffThreadRunner implements ProcessRunner {
  constructor(
    private readonly options: ChildProcessRunnerOptions = {},
    private readonly thread: SpawnThread = sharedSpawnThread(),
  ) {}

  run(command: CommandSpec): Promise<ProcessOutcome> {
    return this.thread.run(command, this.options);
  }
}

interface PendingRun {
  resolve(outcome: ProcessOutcome): void;
  command: CommandSpec;
  stopWatchingAbort(): void;
  /** The child's process group, once it runs. */
  pid?: number;
}

/** One worker thread and the commands it runs; a new one is started if it ends. */
export class SpawnThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, PendingRun>();

  run(command: CommandSpec, options: ChildProcessRunnerOptions): Promise<ProcessOutcome> {
    if (command.signal?.aborted) {
      return Promise.resolve({
        exitCode: null,
        exitSignal: null,
        timedOut: true,
        stdout: "",
        stderrTail: "",
      });
    }
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const { signal, onSpawn: _onSpawn, ...plain } = command;
    return new Promise((resolve) => {
      const abort = () => this.post({ type: "abort", id });
      signal?.addEventListener("abort", abort, { once: true });
      this.pending.set(id, {
        resolve,
        command,
        stopWatchingAbort: () => signal?.removeEventListener("abort", abort),
      });
      // A command under way keeps the process alive, as its child would on this thread.
      if (this.pending.size === 1) worker.ref();
      this.post({ type: "run", id, command: plain, options, childNice: childNiceness() });
    });
  }

  /** Ends the thread; commands still running are killed and answered as not run to the end. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    this.ended(worker, "the runner was stopped");
    await worker.terminate();
  }

  private post(request: SpawnRequest): void {
    this.worker?.postMessage(request);
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = startWorker();
    worker.unref();
    worker.on("message", (reply: SpawnReply) => this.answer(reply));
    worker.on("error", (error) => this.ended(worker, error.message));
    worker.on("exit", (code) => this.ended(worker, `it exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private answer(reply: SpawnReply): void {
    const run = this.pending.get(reply.id);
    if (run === undefined) return;
    if (reply.type === "spawned") {
      run.pid = reply.pid;
      run.command.onSpawn?.(reply.pid);
      return;
    }
    this.settle(reply.id, run, reply.outcome);
  }

  private settle(id: number, run: PendingRun, outcome: ProcessOutcome): void {
    this.pending.delete(id);
    run.stopWatchingAbort();
    if (this.pending.size === 0) this.worker?.unref();
    run.resolve(outcome);
  }

  /**
   * The thread is gone (a bug, or stop()): nothing would time its commands out any more, so they
   * are killed, group and all, and answered as failed to run.
   */
  private ended(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    for (const [id, run] of [...this.pending]) {
      if (run.pid !== undefined) {
        try {
          process.kill(-run.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      this.settle(id, run, {
        exitCode: null,
        exitSignal: null,
        timedOut: false,
        spawnError: { code: "EWORKER", message: `the thread that runs commands ended: ${why}` },
        stdout: "",
        stderrTail: "",
      });
    }
  }
}

let shared: SpawnThread | null = null;

/** The process's one spawning thread, started at its first command. */
export function sharedSpawnThread(): SpawnThread {
  shared ??= new SpawnThread();
  return shared;
}

/**
 * The compiled agent runs spawn-thread.js beside this file. Under tsx (tests, `npm run dev`) a
 * worker does not inherit the loader, so it registers tsx before it imports the TypeScript.
 */
function startWorker(): Worker {
  const extension = extname(fileURLToPath(import.meta.url));
  const body = new URL(`./spawn-thread${extension}`, import.meta.url);
  if (extension !== ".ts") return new Worker(body, { env: SHARE_ENV });
  const tsx = import.meta.resolve("tsx/esm/api");
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(body.href)}); })`,
    { eval: true, env: SHARE_ENV },
  );
}
