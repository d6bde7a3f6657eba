/**
 * One check of one upstream target (edge): ICMP echo through `ping`, a TCP connect, or an HTTP
 * request. Every probe answers true (the target answered in time) or false (anything else:
 * timeout, refusal, DNS failure, a 5xx, an abort); none throws.
 */
import { connect } from "node:net";
import { parseHostPort } from "../config/host-port.js";
import { ChildProcessRunner } from "../resources/executor/process-runner.js";
import type { ConnectivityTarget } from "./targets.js";

/** ping dies at once on SIGTERM; no need to wait the executor's default grace before SIGKILL. */
const PING_KILL_GRACE_MS = 200;
const runner = new ChildProcessRunner({
  killGraceMs: PING_KILL_GRACE_MS,
  stdoutLimitBytes: 4 * 1024,
  stderrTailBytes: 1024,
});

/** Checks `target` once; resolves within about `timeoutMs` (sooner when `signal` fires). */
export async function probeTarget(
  target: ConnectivityTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    if (signal?.aborted) return false;
    if ("icmp" in target) return await probeIcmp(target.icmp, timeoutMs, signal);
    if ("tcp" in target) return await probeTcp(target.tcp, timeoutMs, signal);
    if ("http" in target) return await probeHttp(target.http, timeoutMs, signal);
    return false;
  } catch {
    return false;
  }
}

/** `ping -n -c 1 -W <s> -- host`; up when it exits 0 (a reply came) within the timeout. */
async function probeIcmp(host: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const waitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const outcome = await runner.run({
    file: "ping",
    args: ["-n", "-c", "1", "-W", String(waitSeconds), "--", host],
    timeoutMs,
    ...(signal === undefined ? {} : { signal }),
  });
  return outcome.exitCode === 0 && !outcome.timedOut;
}

/** Up when the TCP handshake completes within the timeout; the connection is closed at once. */
function probeTcp(hostPort: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const address = parseHostPort(hostPort);
  if (address === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host: address.host, port: address.port });
    const finish = (up: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(up);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => finish(true));
    // Kept for the socket's whole life: an error without a listener would crash the agent.
    socket.on("error", () => finish(false));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Up when any HTTP response with a status below 500 arrives within the timeout: a 404 or a
 * redirect (not followed) still proves the path to the server works; a 5xx says it does not.
 */
async function probeHttp(url: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const response = await fetch(url, {
    method: "GET",
    redirect: "manual",
    signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
  });
  // Only the status matters; release the connection without reading the body.
  await response.body?.cancel().catch(() => undefined);
  return response.status < 500;
}
