import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { CheckSpec } from "../resource-model/checks-schema.js";
import { linearPattern } from "../resource-model/linear-pattern.js";
import type { ProcessRunner } from "../resources/executor/process-runner.js";

export interface ProbeResult {
  ok: boolean;
  /** One line: what passed or why it failed. */
  detail: string;
}

export type Probe = (check: CheckSpec, environment: Record<string, string>) => Promise<ProbeResult>;

/** How much of an answer is read to match a pattern against. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The probes for real: an HTTP(S) request, a TCP connection, an executable. */
export function realProbe(processes: ProcessRunner): Probe {
  return (check, environment) => {
    if (check.http !== undefined) return probeHttp(check.http, check.timeout_ms);
    if (check.tcp !== undefined) return probeTcp(check.tcp, check.timeout_ms);
    if (check.exec !== undefined)
      return probeExec(processes, check.exec, check.timeout_ms, environment);
    return Promise.resolve({ ok: false, detail: "no probe configured" });
  };
}

function probeHttp(http: NonNullable<CheckSpec["http"]>, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const url = new URL(http.url);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const request = send(
      url,
      {
        method: http.method,
        // A check is one request: no pooled connection outlives it.
        agent: false,
        ...(url.protocol === "https:" ? { rejectUnauthorized: http.tls_verify } : {}),
        headers: { "user-agent": "vigil-check" },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const statusOk =
          http.status === undefined ? status >= 200 && status < 300 : http.status.includes(status);
        if (!statusOk) {
          done({ ok: false, detail: `${http.url} answered ${status}` });
          return;
        }
        if (http.body === undefined) {
          done({ ok: true, detail: `${http.url} answered ${status}` });
          return;
        }
        const pattern = linearPattern(http.body);
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (body.length < MAX_ANSWER_BYTES) body += chunk;
          if (pattern.test(body))
            done({ ok: true, detail: `${http.url} answered ${status}, body matches` });
        });
        response.on("end", () =>
          done(
            pattern.test(body)
              ? { ok: true, detail: `${http.url} answered ${status}, body matches` }
              : {
                  ok: false,
                  detail: `${http.url} answered ${status}, but its body does not match /${http.body}/`,
                },
          ),
        );
        response.on("error", (error) =>
          done({ ok: false, detail: `${http.url}: ${error.message}` }),
        );
      },
    );
    const timer = setTimeout(
      () => done({ ok: false, detail: `${http.url} did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    request.on("error", (error) => done({ ok: false, detail: `${http.url}: ${error.message}` }));
    request.end();
  });
}

function probeTcp(tcp: NonNullable<CheckSpec["tcp"]>, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const where = `${tcp.host}:${tcp.port}`;
    const socket = connect({ host: tcp.host, port: tcp.port });
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        done({
          ok: false,
          detail:
            tcp.expect === undefined
              ? `${where}: no connection within ${timeoutMs} ms`
              : `${where}: no matching answer within ${timeoutMs} ms`,
        }),
      timeoutMs,
    );
    socket.on("error", (error) => done({ ok: false, detail: `${where}: ${error.message}` }));
    socket.on("connect", () => {
      if (tcp.send !== undefined) socket.write(tcp.send);
      if (tcp.expect === undefined) done({ ok: true, detail: `${where} accepted the connection` });
    });
    if (tcp.expect !== undefined) {
      const pattern = linearPattern(tcp.expect);
      let answer = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        if (answer.length < MAX_ANSWER_BYTES) answer += chunk;
        if (pattern.test(answer)) done({ ok: true, detail: `${where} answered as expected` });
      });
      socket.on("end", () =>
        done({ ok: false, detail: `${where} closed without an answer matching /${tcp.expect}/` }),
      );
    }
  });
}

async function probeExec(
  processes: ProcessRunner,
  file: string,
  timeoutMs: number,
  environment: Record<string, string>,
): Promise<ProbeResult> {
  const outcome = await processes.run({
    file,
    args: [],
    env: environment,
    timeoutMs,
    killGraceMs: 500,
  });
  if (outcome.spawnError !== undefined)
    return { ok: false, detail: `could not run ${file}: ${outcome.spawnError.message}` };
  if (outcome.timedOut)
    return { ok: false, detail: `${file} did not finish within ${timeoutMs} ms` };
  if (outcome.exitCode === 0) return { ok: true, detail: `${file} exited 0` };
  const said = outcome.stderrTail.trim().split("\n").at(-1)?.slice(0, 200) ?? "";
  const how =
    outcome.exitCode === null ? `killed by ${outcome.exitSignal}` : `exit code ${outcome.exitCode}`;
  return { ok: false, detail: `${file}: ${how}${said === "" ? "" : `: ${said}`}` };
}
