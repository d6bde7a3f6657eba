import { request } from "node:http";

export class ControlClientError extends Error {
  override readonly name = "ControlClientError";
}

/** GETs a route of the local agent's control socket and returns the parsed JSON body. */
export function controlGet<T>(socketPath: string, path: string, timeoutMs = 2000): Promise<T> {
  return controlRequest<T>(socketPath, "GET", path, undefined, timeoutMs);
}

/** POSTs a JSON body to a route of the local agent's control socket. */
export function controlPost<T>(
  socketPath: string,
  path: string,
  body: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  return controlRequest<T>(socketPath, "POST", path, body, timeoutMs);
}

function controlRequest<T>(
  socketPath: string,
  method: "GET" | "POST",
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          const body = JSON.parse(text) as T & { error?: string };
          if (response.statusCode !== 200) {
            reject(
              new ControlClientError(
                `agent answered ${response.statusCode}: ${body.error ?? text}`,
              ),
            );
          } else {
            resolve(body);
          }
        } catch {
          reject(
            new ControlClientError(`agent sent a reply that is not JSON: ${text.slice(0, 200)}`),
          );
        }
      });
    });
    req.on("timeout", () => {
      req.destroy();
      reject(
        new ControlClientError(`agent on ${socketPath} did not answer within ${timeoutMs} ms`),
      );
    });
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(new ControlClientError(`cannot reach the agent at ${socketPath}: ${hintFor(error)}`)),
    );
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * GETs a route of the local agent's control socket that answers with server-sent events
 * (GET /v1/where?follow=1) and hands each event's name and parsed data to `onEvent`; resolves
 * when the agent ends the stream (it stopped), rejects when it cannot be reached or refuses.
 */
export function controlStream(
  socketPath: string,
  path: string,
  onEvent: (event: string, data: unknown) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET" }, (response) => {
      let text = "";
      if (response.statusCode !== 200) {
        response.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8");
        });
        response.on("end", () => {
          let error = text;
          try {
            error = (JSON.parse(text) as { error?: string }).error ?? text;
          } catch {}
          reject(new ControlClientError(`agent answered ${response.statusCode}: ${error}`));
        });
        return;
      }
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
        for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const field = (name: string) =>
            block
              .split("\n")
              .find((line) => line.startsWith(`${name}: `))
              ?.slice(name.length + 2);
          const event = field("event");
          const data = field("data");
          if (event === undefined || data === undefined) continue;
          try {
            onEvent(event, JSON.parse(data));
          } catch (error) {
            req.destroy();
            reject(error);
          }
        }
      });
      response.on("end", resolve);
      response.on("error", reject);
    });
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(new ControlClientError(`cannot reach the agent at ${socketPath}: ${hintFor(error)}`)),
    );
    req.end();
  });
}

function hintFor(error: NodeJS.ErrnoException): string {
  return error.code === "ENOENT" || error.code === "ECONNREFUSED"
    ? "is the agent running? (vigil agent), or pass --socket PATH"
    : error.code === "EACCES"
      ? "the control socket is root-only: run as root"
      : error.message;
}
