import { controlGet } from "../../control/client.js";
import type { LocksReply, SessionsReply } from "../../control/session-routes.js";
import { describeSessionEnd, formatInstant } from "../../state/history.js";
import { controlSocketPath } from "../paths.js";
import { renderTable } from "../table.js";

export interface SessionListOptions {
  socket?: string;
  config?: string;
  json?: boolean;
}

/** `vigil session list [--json]`: the open sessions, their locks, and those that ended lately. */
export async function runSessionList(options: SessionListOptions): Promise<void> {
  const reply = await controlGet<SessionsReply>(await controlSocketPath(options), "/v1/sessions");
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(reply)}\n`);
    return;
  }
  const lines: string[] = [];
  if (reply.sessions.length === 0) lines.push("no open sessions");
  else
    lines.push(
      ...renderTable([
        ["SESSION", "NAME", "NODE", "TTL", "LOCK-DELAY", "CHECKS", "LOCKS"],
        ...reply.sessions.map((s) => [
          s.session,
          s.name,
          s.node,
          `${s.ttlMs} ms`,
          `${s.lockDelayMs} ms`,
          s.checks.join(",") || "-",
          s.locks.join(",") || "-",
        ]),
      ]),
    );
  if (reply.ended.length > 0) {
    lines.push("", "ended lately:");
    for (const end of reply.ended)
      lines.push(
        `  ${formatInstant(end.atMs)} ${end.session} (${end.name} on ${end.node}): ${describeSessionEnd(end.reason)}`,
      );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** `vigil lock list [--json]`: each lock's holder, or until when it waits out its lock-delay. */
export async function runLockList(options: SessionListOptions): Promise<void> {
  const reply = await controlGet<LocksReply>(await controlSocketPath(options), "/v1/locks");
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(reply)}\n`);
    return;
  }
  if (reply.locks.length === 0) {
    process.stdout.write("no locks\n");
    return;
  }
  const rows = reply.locks.map((lock) =>
    lock.session !== null
      ? [
          lock.key,
          `held by ${lock.session}`,
          `${lock.name ?? "?"} on ${lock.node ?? "?"}`,
          `since ${formatInstant(lock.acquiredAtMs ?? 0)}`,
        ]
      : [
          lock.key,
          "lock-delay",
          `free at ${formatInstant(lock.freeAtMs ?? 0)}`,
          `(${lock.reason})`,
        ],
  );
  process.stdout.write(`${renderTable([["KEY", "STATE", "WHO", "WHEN"], ...rows]).join("\n")}\n`);
}
