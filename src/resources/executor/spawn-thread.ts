/**
 * The body of the worker thread that OffThreadRunner (off-thread-runner.ts) hands its commands
 * to: each runs as ChildProcessRunner runs it, here, where the wait inside spawn() blocks no one.
 */
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { setChildNice } from "../../scheduling/child-priority.js";
import { ChildProcessRunner } from "./process-runner.js";
import type { SpawnReply, SpawnRequest } from "./spawn-protocol.js";

const port = parentPort;
if (port === null) throw new Error("spawn-thread.ts runs as a worker thread (OffThreadRunner)");

const running = new Map<number, AbortController>();
const reply = (message: SpawnReply) => port.postMessage(message);
let threadNice: number | null = null;

/**
 * This thread runs at the niceness the agent's children are to have. On Linux a niceness is a
 * thread's own, and a child starts with its forking thread's: so every child runs at it from its
 * first instruction, where lowering it after spawn() (child-priority.ts) leaves a moment in which
 * a service forked by a fast start script keeps the agent's raised priority for good.
 */
function takeChildNice(nice: number | null): void {
  setChildNice(nice);
  if (nice === null || nice === threadNice) return;
  try {
    setPriority(nice);
    threadNice = nice;
  } catch {
    // Refused (only a raise needs privileges): children are still lowered after spawn.
  }
}

port.on("message", (request: SpawnRequest) => {
  if (request.type === "abort") {
    running.get(request.id)?.abort();
    return;
  }
  const { id } = request;
  takeChildNice(request.childNice);
  const abort = new AbortController();
  running.set(id, abort);
  void new ChildProcessRunner(request.options)
    .run({
      ...request.command,
      signal: abort.signal,
      onSpawn: (pid) => reply({ type: "spawned", id, pid }),
    })
    .then(
      (outcome) => outcome,
      // spawn() throws for arguments it refuses (a NUL byte in one, say): the command never ran.
      (error: NodeJS.ErrnoException) => ({
        exitCode: null,
        exitSignal: null,
        timedOut: false,
        spawnError: { code: error.code ?? "UNKNOWN", message: error.message },
        stdout: "",
        stderrTail: "",
      }),
    )
    .then((outcome) => {
      running.delete(id);
      reply({ type: "done", id, outcome });
    });
});
