import type { LogEntry } from "../consensus/types.js";
import { type Applied, applyCommand } from "./apply.js";
import { initialState, restoreState, serializeState } from "./serialize.js";
import type { ClusterState, CommandResult } from "./types.js";

/** What became of a proposal: the proposer knows the index and term Raft gave it. */
export type CommandOutcome =
  | { status: "applied"; index: number; result: CommandResult }
  /** The proposal was a Raft entry (a membership change), committed as proposed. */
  | { status: "committed_entry"; index: number }
  /** Another entry was committed at that index: the proposal was lost with its leader's term. */
  | { status: "superseded"; index: number; reason: string }
  /** This node cannot tell (the index is covered by a snapshot, or its record was dropped). */
  | { status: "unknown"; index: number; reason: string };

export type OutcomeCallback = (outcome: CommandOutcome) => void;

export interface StateMachineOptions {
  /** Outcomes remembered for proposers that ask after the fact. Oldest are forgotten first. */
  outcomesKept?: number;
  /** Bound on proposers waiting at once; past it a new waiter is answered "unknown" at once. */
  maxWaiters?: number;
  /** Applies entry payloads: applyCommand unless given (the simulator shares a memo of it). */
  applyCommand?(state: ClusterState, payload: string): Applied;
}

interface AppliedRecord {
  term: number;
  /** null: a noop or membership entry, which carries no command. */
  result: CommandResult | null;
}

interface Waiter {
  term: number;
  callback: OutcomeCallback;
}

/**
 * The replicated state as the agent drives it: committed entries go in, in index order, and
 * proposers waiting for their entry are told what it did. No clocks or timers: a proposer that
 * gives up cancels its wait.
 */
export class StateMachine {
  readonly #outcomesKept: number;
  readonly #maxWaiters: number;
  readonly #applyCommand: (state: ClusterState, payload: string) => Applied;
  #state: ClusterState = initialState();
  #appliedIndex = 0;
  readonly #records = new Map<number, AppliedRecord>();
  readonly #waiters = new Map<number, Set<Waiter>>();
  #waiterCount = 0;

  constructor(options: StateMachineOptions = {}) {
    this.#outcomesKept = options.outcomesKept ?? 1024;
    this.#maxWaiters = options.maxWaiters ?? 10_000;
    this.#applyCommand = options.applyCommand ?? applyCommand;
  }

  get state(): ClusterState {
    return this.#state;
  }

  /** Index of the last entry applied (or covered by the restored snapshot); 0 for none. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /**
   * Applies the next committed entry. Noop and membership entries change nothing but still
   * advance the applied index. Returns the command's result, or null for those entries.
   * Throws if the entry is not the next one: applying out of order would fork the state.
   */
  apply(entry: LogEntry): CommandResult | null {
    if (entry.index !== this.#appliedIndex + 1) {
      throw new Error(
        `state machine applied up to index ${this.#appliedIndex} and was given index ${entry.index}; entries must be applied in order, once`,
      );
    }
    let result: CommandResult | null = null;
    if (entry.body.kind === "command") {
      const applied = this.#applyCommand(this.#state, entry.body.payload);
      this.#state = applied.state;
      result = applied.result;
    }
    this.#appliedIndex = entry.index;
    this.#remember(entry.index, { term: entry.term, result });
    throwIfAny(
      this.#settle(entry.index, (waiter) =>
        outcomeOf(entry.index, { term: entry.term, result }, waiter.term),
      ),
    );
    return result;
  }

  /** Snapshot data for the state at `appliedIndex`. */
  snapshot(): string {
    return serializeState(this.#state);
  }

  /**
   * Replaces the state with a snapshot's, taken at `index` (a leader's snapshot for a node that
   * fell behind, or this node's own at start-up). Waiters for covered indexes are answered
   * "unknown": the snapshot holds the outcome but not which command produced it.
   */
  restore(data: string, index: number): void {
    if (!Number.isInteger(index) || index < this.#appliedIndex) {
      throw new Error(
        `cannot restore a snapshot at index ${index}: the state machine has already applied up to ${this.#appliedIndex}`,
      );
    }
    this.#state = restoreState(data);
    this.#appliedIndex = index;
    const covered = [...this.#waiters.keys()].filter((waiting) => waiting <= index);
    throwIfAny(
      covered.sort((a, b) => a - b).flatMap((at) => this.#settle(at, () => coveredBySnapshot(at))),
    );
  }

  /** The result of the command at `index`, if it was applied here and is still remembered. */
  resultAt(index: number): CommandResult | undefined {
    return this.#records.get(index)?.result ?? undefined;
  }

  /**
   * Calls `callback` once with the outcome of the proposal Raft accepted at (`index`, `term`):
   * synchronously if that index is already applied, otherwise when it is. Returns a function
   * that cancels the wait (a client that timed out or went away).
   */
  waitFor(index: number, term: number, callback: OutcomeCallback): () => void {
    if (index <= this.#appliedIndex) {
      const record = this.#records.get(index);
      callback(
        record === undefined
          ? {
              status: "unknown",
              index,
              reason: `the outcome at index ${index} is no longer remembered here (applied long ago, or it arrived inside a snapshot)`,
            }
          : outcomeOf(index, record, term),
      );
      return () => {};
    }
    if (this.#waiterCount >= this.#maxWaiters) {
      callback({
        status: "unknown",
        index,
        reason: `${this.#maxWaiters} proposals are already waiting on this node; the command may still be applied`,
      });
      return () => {};
    }
    const waiter: Waiter = { term, callback };
    const atIndex = this.#waiters.get(index) ?? new Set<Waiter>();
    atIndex.add(waiter);
    this.#waiters.set(index, atIndex);
    this.#waiterCount++;
    return () => {
      if (atIndex.delete(waiter)) {
        this.#waiterCount--;
        if (atIndex.size === 0 && this.#waiters.get(index) === atIndex) this.#waiters.delete(index);
      }
    };
  }

  /** How many proposers are waiting. */
  get waiting(): number {
    return this.#waiterCount;
  }

  /** Answers every waiter "unknown" with `reason` (the agent is shutting down). */
  abandonWaiting(reason: string): void {
    const indexes = [...this.#waiters.keys()].sort((a, b) => a - b);
    throwIfAny(
      indexes.flatMap((index) => this.#settle(index, () => ({ status: "unknown", index, reason }))),
    );
  }

  #remember(index: number, record: AppliedRecord): void {
    this.#records.set(index, record);
    // Map iteration is insertion order, and indexes are inserted ascending.
    while (this.#records.size > this.#outcomesKept) {
      const oldest = this.#records.keys().next().value as number;
      this.#records.delete(oldest);
    }
  }

  /**
   * Answers every waiter at `index` and returns what their callbacks threw: every waiter is
   * answered even if one throws, and the errors are rethrown once the state is consistent.
   */
  #settle(index: number, outcomeFor: (waiter: Waiter) => CommandOutcome): unknown[] {
    const atIndex = this.#waiters.get(index);
    if (atIndex === undefined) return [];
    this.#waiters.delete(index);
    this.#waiterCount -= atIndex.size;
    const errors: unknown[] = [];
    for (const waiter of atIndex) {
      try {
        waiter.callback(outcomeFor(waiter));
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }
}

function throwIfAny(errors: unknown[]): void {
  if (errors.length > 0) {
    throw new AggregateError(errors, `${errors.length} outcome callback(s) threw`);
  }
}

function outcomeOf(index: number, record: AppliedRecord, proposedTerm: number): CommandOutcome {
  if (record.term !== proposedTerm) {
    return {
      status: "superseded",
      index,
      reason: `index ${index} was committed with an entry of term ${record.term}, not the proposal of term ${proposedTerm}; leadership changed before it committed`,
    };
  }
  if (record.result === null) return { status: "committed_entry", index };
  return { status: "applied", index, result: record.result };
}

function coveredBySnapshot(index: number): CommandOutcome {
  return {
    status: "unknown",
    index,
    reason: `index ${index} arrived inside a snapshot from the leader, which keeps the state but not each command's result`,
  };
}
