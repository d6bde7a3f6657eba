import type { ChildProcessRunnerOptions, CommandSpec, ProcessOutcome } from "./process-runner.js";

/** A command as it crosses to the spawning thread: what structured clone can carry. */
export type PlainCommand = Omit<CommandSpec, "signal" | "onSpawn">;

/** From the agent's thread to the spawning thread (spawn-thread.ts). */
export type SpawnRequest =
  | {
      type: "run";
      id: number;
      command: PlainCommand;
      options: ChildProcessRunnerOptions;
      /** The agent thread's childNiceness() (src/scheduling/child-priority.ts). */
      childNice: number | null;
    }
  | { type: "abort"; id: number };

/** Back: the child's pid once it exists, then its outcome. */
export type SpawnReply =
  | { type: "spawned"; id: number; pid: number }
  | { type: "done"; id: number; outcome: ProcessOutcome };
