import { setFlagsFromString } from "node:v8";

/**
 * Bytecode a function runs before V8 considers optimising it: a quarter of V8's default (66 KiB
 * in Node 20). The default suits code that runs thousands of times a second; an agent's hot path
 * (sign, send, check, answer) runs ten times a second, so with it V8 keeps that path in the
 * interpreter for minutes and optimises it piece by piece the whole time, its compiler threads
 * busy in the background. A smaller budget does the same work in the first seconds. Measured
 * (`npm run bench:detect`, idle 3-node lab, 30-90 s after start): the Raft leader 0.75 -> 0.53
 * CPU s per minute, followers 0.51-0.56 -> 0.41-0.48; once settled about the same as before.
 */
const DAEMON_INTERRUPT_BUDGET = 16 * 1024;

/**
 * For the long-running commands (agent, witness, guard), before they start work. Runtime flag
 * changes are safe for this one: V8 reads it each time it resets a function's budget.
 */
export function tuneV8ForDaemon(): void {
  setFlagsFromString(`--interrupt-budget=${DAEMON_INTERRUPT_BUDGET}`);
}
